import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Etcd3 } from 'etcd3';
import {
  createMicroservice,
  Discovery,
  HttpClientResource,
  Microservice,
  microservice,
  type App,
  type RegistryEntry,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient } from '../../support/etcd-client';

jest.setTimeout(60_000);

const HALF_OPEN_AFTER_MS = 500;

/** One instance of `greeter`: a real server on 127.0.0.1 that answers, or hangs while `hanging`. */
class Upstream {
  seen = 0;
  hanging = false;
  private readonly server: Server;
  private readonly held: ServerResponse[] = [];

  constructor(readonly id: string) {
    this.server = createServer((_request: IncomingMessage, response: ServerResponse) => {
      this.seen++;
      if (this.hanging) this.held.push(response);
      else response.end(this.id);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

@microservice({ name: 'greeter_caller', resources: { discovery: Discovery, greeter: HttpClientResource } })
class Caller extends Microservice {}

describeWithEtcd('per-instance circuit breakers through discovery', () => {
  let cluster: EtcdCluster;
  let etcd: Etcd3;
  let upstreams: Upstream[];
  let caller: App;
  let client: HttpClientResource;
  const records: { level: string; message: string; fields: object }[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start();
    etcd = etcdClient(cluster.members);
    upstreams = ['a', 'b', 'c'].map((id) => new Upstream(id));
    for (const upstream of upstreams) {
      const port = await upstream.listen();
      const entry: RegistryEntry = {
        instance_id: upstream.id,
        service: 'greeter',
        deploy_name: 'test',
        addresses: { http: { host: '127.0.0.1', port } },
        started_at: new Date().toISOString(),
        metadata: {},
      };
      await etcd.put(`keel-registry/greeter/${upstream.id}`).value(JSON.stringify(entry));
    }
    caller = await startCaller({ consecutive_failures: 3, half_open_after_ms: HALF_OPEN_AFTER_MS }, records);
    client = caller.get(HttpClientResource);
  });

  /** A client of greeter through Discovery on the test's etcd, once it sees the three instances. */
  async function startCaller(breaker: object, log: typeof records = []): Promise<App> {
    const app = await createMicroservice(Caller, {
      env: { ...process.env, KEEL_ETCD_HOSTS: cluster.hosts },
      log: quietLog(log),
      settings: {
        system: {
          resources: {
            report_server: { port: 0 },
            greeter: {
              service: 'greeter',
              timeout_ms: 1000,
              retries: 2,
              backoff_ms: 5,
              max_backoff_ms: 20,
              breaker,
            },
          },
        },
      },
    });
    await app.start();
    await until(() => app.get(Discovery).instances('greeter').length === 3, 10_000, 'three instances');
    return app;
  }

  afterAll(async () => {
    await caller?.stop();
    etcd?.close();
    await Promise.all((upstreams ?? []).map((upstream) => upstream.close()));
    await cluster?.stop();
  });

  const [a, b, c] = ['a', 'b', 'c'].map((id) => () => upstreams.find((upstream) => upstream.id === id)!);
  const retries = () => records.filter((record) => 'delay_ms' in record.fields).length;
  const probesOf = (id: string) =>
    records.filter((record) => record.message === `greeter: circuit breaker of ${id} half_open`).length;

  it('stops sending to a hanging instance, loses no idempotent request, and takes it back after a probe', async () => {
    for (let i = 0; i < 30; i++) expect((await client.get('/')).status).toBe(200);
    // Round robin: every instance is chosen (a loaded machine may time one attempt out and move it on).
    expect([a().seen, b().seen, c().seen].every((seen) => seen > 0)).toBe(true);

    b().hanging = true;
    const before = { a: a().seen, b: b().seen, c: c().seen };
    const retriesBefore = retries();
    const answers: string[] = [];
    for (let i = 0; i < 150; i++) {
      const response = await client.get('/');
      expect(response.status).toBe(200);
      answers.push(await response.text());
    }
    const toB = b().seen - before.b;
    const attempts = a().seen - before.a + toB + (c().seen - before.c);
    // Three timeouts open b's breaker; after that only its half-open probes reach it.
    expect(toB).toBe(3 + probesOf('b'));
    // Every request answered by a or c, each attempt beyond one per request a logged retry.
    expect(answers.every((answer) => answer === 'a' || answer === 'c')).toBe(true);
    expect(attempts).toBe(150 + retries() - retriesBefore);
    expect(client.breakers().find((breaker) => breaker.target === 'b')?.state).not.toBe('closed');
    expect(
      records.filter(
        (record) => record.level === 'warn' && record.message.includes('circuit breaker of b opened'),
      ),
    ).toHaveLength(1);

    b().hanging = false;
    await until(
      () => {
        void client.get('/').catch(() => undefined);
        return client.breakers().find((breaker) => breaker.target === 'b')?.state === 'closed';
      },
      HALF_OPEN_AFTER_MS * 20,
      "b's breaker to close after a probe",
    );
    const back = b().seen;
    for (let i = 0; i < 30; i++) await client.get('/');
    expect(b().seen).toBeGreaterThan(back);
    expect(
      records.filter(
        (record) => record.level === 'info' && record.message.includes('circuit breaker of b closed'),
      ),
    ).toHaveLength(1);
  });

  it('fails at once with POLICY_BREAKER_OPEN when every instance is open', async () => {
    const strict = await startCaller({ consecutive_failures: 1, half_open_after_ms: 60_000 });
    try {
      const strictClient = strict.get(HttpClientResource);
      for (const upstream of upstreams) upstream.hanging = true;
      // Its three attempts time out on a, b and c in turn, and each breaker opens on its first failure.
      await expect(strictClient.get('/')).rejects.toMatchObject({
        code: 'POLICY_RETRIES_EXHAUSTED',
        attempts: 3,
      });
      const seen = upstreams.map((upstream) => upstream.seen);
      await expect(strictClient.get('/')).rejects.toMatchObject({
        name: 'PolicyError',
        code: 'POLICY_BREAKER_OPEN',
        target: 'greeter',
      });
      expect(upstreams.map((upstream) => upstream.seen)).toEqual(seen);
      const status = strict.status().resources.find((row) => row.name === 'greeter')!;
      expect(status.breakers?.map((breaker) => breaker.state)).toEqual(['open', 'open', 'open']);
    } finally {
      await strict.stop();
    }
  });
});
