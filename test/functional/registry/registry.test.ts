import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  Discovery,
  HttpClientResource,
  ReportServerResource,
  type App,
  type RegistryEntry,
} from '../../../lib';
import { until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { keel } from '../../support/etcd-keel-cli';
import { killAll, PROJECT_ROOT, spawnService } from '../../support/process';
import { startCaller, startInstance, TTL_S, waitForInstances, type Instance } from './helpers';

jest.setTimeout(90_000);

const VERSION = (JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string })
  .version;

function gitHead(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

function records(instance: Instance): Record<string, unknown>[] {
  return instance.process
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describeWithEtcd('the service registry on one etcd', () => {
  let cluster: EtcdCluster;
  let instances: Instance[] = [];
  let caller: App;
  let discovery: Discovery;
  let killedAt = 0;
  let removedAt: number | undefined;

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    instances = await Promise.all([0, 1, 2].map(() => startInstance(cluster.hosts)));
    caller = await startCaller(cluster.hosts);
    discovery = caller.get(Discovery);
  });

  afterAll(async () => {
    killAll(instances.map((instance) => instance.process));
    await caller?.stop();
    await cluster?.stop();
  });

  it('lists the three instances with their addresses, in Discovery and in keel registry list', async () => {
    await waitForInstances(discovery, 3);
    const ports = instances.map((instance) => instance.port).sort();
    const listed = discovery.instances('greeter');
    expect(listed.map((entry) => entry.addresses.http.port).sort()).toEqual(ports);
    expect(listed[0]).toMatchObject({
      service: 'greeter',
      deploy_name: 'local',
      version: VERSION,
      metadata: { zone: 'local' },
      addresses: { http: { host: '127.0.0.1' } },
    });
    const cli = await keel(['registry', 'list', 'greeter'], { KEEL_ETCD_HOSTS: cluster.hosts });
    expect(cli.code).toBe(0);
    const lines = cli.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const entry of listed) {
      expect(
        lines.some(
          (line) =>
            line.includes(entry.instance_id) && line.includes(`http=127.0.0.1:${entry.addresses.http.port}`),
        ),
      ).toBe(true);
    }
    const json = JSON.parse(
      (await keel(['registry', 'list', '--json'], { KEEL_ETCD_HOSTS: cluster.hosts })).stdout,
    ) as RegistryEntry[];
    expect(json.map((entry) => entry.instance_id).sort()).toEqual(
      listed.map((entry) => entry.instance_id).sort(),
    );
  });

  it('runs the sample client: its requests reach the instances through the registry', async () => {
    const client = spawnService('samples/registry/client.ts', {
      KEEL_ETCD_HOSTS: cluster.hosts,
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
    });
    try {
      await client.waitFor(/200 from [0-9a-f-]{36} \(3 live\)/, 30_000);
      client.child.kill('SIGTERM');
      expect((await client.exited).code).toBe(0);
    } finally {
      killAll([client]);
    }
  });

  it('puts instance_id, version and revision in every record and in /status', async () => {
    const revision = gitHead();
    for (const instance of instances) {
      const all = records(instance);
      expect(all.length).toBeGreaterThan(3);
      const id = all[0].instance_id;
      expect(typeof id).toBe('string');
      for (const record of all)
        expect(record).toMatchObject({ instance_id: id, version: VERSION, ...(revision && { revision }) });
      const status = (await (await fetch(`http://127.0.0.1:${instance.reportPort}/status`)).json()) as Record<
        string,
        unknown
      >;
      expect(status).toMatchObject({ instance_id: id, version: VERSION, ...(revision && { revision }) });
      expect(discovery.instances('greeter').map((entry) => entry.instance_id)).toContain(id);
    }
  });

  it('spreads requests over the live instances and retries on another one when an instance dies mid-run', async () => {
    const client = caller.get(HttpClientResource);
    const answeredBy = new Map<string, number>();
    let failures = 0;
    const victim = instances[2];
    const victimId = records(victim)[0].instance_id as string;
    discovery.watch('greeter', (live) => {
      if (removedAt === undefined && !live.some((entry) => entry.instance_id === victimId))
        removedAt = Date.now();
    });
    const run = async (worker: number): Promise<void> => {
      for (let i = 0; i < 60; i++) {
        if (worker === 0 && i === 20) {
          killedAt = Date.now();
          victim.process.child.kill('SIGKILL');
        }
        try {
          const response = await client.get('/hello');
          if (response.status !== 200) failures++;
          const { instance_id } = (await response.json()) as { instance_id: string };
          answeredBy.set(instance_id, (answeredBy.get(instance_id) ?? 0) + 1);
        } catch {
          failures++;
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(run));
    expect(failures).toBe(0);
    expect([...answeredBy.values()].reduce((a, b) => a + b, 0)).toBe(240);
    expect(answeredBy.size).toBe(3);
    // Attempts did reach the dead instance, and were retried elsewhere.
    const { port } = caller.get(ReportServerResource).address()!;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`host="127\\.0\\.0\\.1:${victim.port}",method="GET",status="network"\\} [1-9]`),
    );
  });

  it('drops a SIGKILLed instance within TTL + 1 s', async () => {
    // Killed in the middle of the previous test.
    expect(killedAt).toBeGreaterThan(0);
    await until(() => removedAt !== undefined, (TTL_S + 1) * 1000 + 1000, 'the killed instance to leave');
    expect(removedAt! - killedAt).toBeLessThanOrEqual((TTL_S + 1) * 1000);
    expect(discovery.instances('greeter')).toHaveLength(2);
  });

  it('on SIGTERM, leaves etcd before its HTTP drain starts and before the process exits', async () => {
    const leaving = instances[1];
    const leavingId = records(leaving)[0].instance_id as string;
    const events: string[] = [];
    const unwatch = discovery.watch('greeter', (live) => {
      if (!live.some((entry) => entry.instance_id === leavingId)) events.push('removed');
    });
    const exited = leaving.process.exited.then(() => events.push('exited'));
    leaving.process.child.kill('SIGTERM');
    await exited;
    unwatch();
    expect(events[0]).toBe('removed');
    const messages = records(leaving).map((record) => String(record.msg));
    const deregistered = messages.findIndex((message) =>
      message.startsWith('deregistered keel-registry/greeter/'),
    );
    const draining = messages.findIndex((message) => message.startsWith('draining:'));
    expect(deregistered).toBeGreaterThanOrEqual(0);
    expect(draining).toBeGreaterThan(deregistered);
    expect(discovery.instances('greeter').map((entry) => entry.instance_id)).not.toContain(leavingId);
  });
});
