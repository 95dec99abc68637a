import { createMicroservice, Microservice, microservice, type App } from '../../../lib';
import { SettingsProvider } from '../../../lib/settings';
import { quietLog, until } from '../../support/async';
import { describeWithEtcd, EtcdCluster, type EtcdMember } from '../../support/etcd';
import { etcdClient, putSettingEventually } from '../../support/etcd-client';
import { httpSchema } from '../../unit/settings/schemas';

jest.setTimeout(90_000);

const HTTP = 'system.resources.http';
const PORT = 'system.resources.http.port';
const STALL_MS = 1500;

@microservice({ name: 'stale_probe', resources: {}, defaultResources: false })
class StaleProbe extends Microservice {}

describeWithEtcd('a frozen etcd member (SIGSTOP) under the settings watch', () => {
  let cluster: EtcdCluster;
  const closing: Array<{ close(): unknown }> = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(3);
  });

  afterEach(async () => {
    for (const member of cluster.members) cluster.thaw(member);
    await Promise.all(closing.splice(0).map((item) => item.close()));
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  function memberAt(endpoint: string | undefined): EtcdMember {
    const member = cluster.members.find((candidate) => candidate.endpoint === endpoint);
    if (member === undefined) throw new Error(`no member at ${endpoint}`);
    return member;
  }

  it('is detected within the stall timeout, logged, and the watch resumes on another member with nothing lost', async () => {
    const warnings: string[] = [];
    const settings = await SettingsProvider.load({
      serviceName: 'billing',
      scopes: [{ path: HTTP, owner: 'http', schema: httpSchema }],
      env: {
        KEEL_ETCD_HOSTS: cluster.hosts,
        KEEL_ETCD_PREFIX: 'frozen/',
        KEEL_ETCD_STALL_TIMEOUT_MS: String(STALL_MS),
      },
      cwd: __dirname,
      warn: (message) => warnings.push(message),
    });
    closing.push(settings);
    const seen: number[] = [];
    settings.watch(PORT, (next) => seen.push(next as number));
    const serving = memberAt(settings.health().etcd?.member);
    const others = cluster.members.filter((member) => member !== serving);
    const writer = etcdClient(others);
    closing.push(writer);

    cluster.freeze(serving);
    const written: number[] = [];
    for (let value = 1; value <= 40; value++) {
      await putSettingEventually(writer, 'frozen/', PORT, value);
      written.push(value);
    }
    await until(() => settings.get(PORT) === 40, 30_000);

    expect(seen).toEqual(written);
    expect(warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^etcd member ${serving.endpoint} serving the settings watch did not answer within ${STALL_MS} ms \\(.*\\); watching from 127\\.0\\.0\\.1:\\d+ after revision \\d+$`,
        ),
      ),
    );
    const health = settings.health();
    expect(health.source).toBe('etcd');
    expect(health.etcd?.member).not.toBe(serving.endpoint);
    expect(health.etcd?.stale).toBe(false);
  });

  it('with no other member to move to, shows the staleness in /status and as a gauge', async () => {
    const [only] = cluster.members;
    const app: App = await createMicroservice(StaleProbe, {
      env: {
        KEEL_ETCD_HOSTS: only.endpoint,
        KEEL_ETCD_PREFIX: 'frozen-single/',
        KEEL_ETCD_STALL_TIMEOUT_MS: String(STALL_MS),
      },
      cwd: __dirname,
      log: quietLog(),
    });
    closing.push({ close: () => app.stop() });
    await app.start();
    expect(app.status().settings).toMatchObject({
      source: 'etcd',
      etcd: { member: only.endpoint, stale: false },
    });

    cluster.freeze(only);
    await until(() => app.status().settings?.etcd?.stale === true, 20_000);
    const staleness = app.status().settings?.etcd?.staleness_s ?? 0;
    expect(staleness).toBeGreaterThanOrEqual(STALL_MS / 1000);
    const metrics = await app.meters.registry.metrics();
    const gauge = /^stale_probe_settings_staleness_seconds (\S+)$/m.exec(metrics);
    expect(Number(gauge?.[1])).toBeGreaterThanOrEqual(STALL_MS / 1000);

    cluster.thaw(only);
    await until(() => app.status().settings?.etcd?.stale === false, 20_000);
  });
});
