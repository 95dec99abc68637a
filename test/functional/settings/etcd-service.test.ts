import type { Etcd3 } from 'etcd3';
import {
  createMicroservice,
  inject,
  Microservice,
  microservice,
  resource,
  SETTINGS,
  type App,
} from '../../../lib';
import { defineSettings, type SettingsOf, type SettingsView } from '../../../lib/settings';
import { AnnouncerService } from '../../../samples/settings-etcd/service';
import { quietLog, until } from '../../support/async';
import { closedPort, describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient, putSetting } from '../../support/etcd-client';
import { keel } from '../../support/etcd-keel-cli';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

jest.setTimeout(90_000);

const SAMPLE = 'samples/settings-etcd/main.ts';
const SAMPLE_SETTINGS = 'samples/settings-etcd/settings.yml';
/** Every server a test starts binds a free port. */
const FREE_PORTS = { KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0' };

const poolSchema = defineSettings({
  size: { format: 'nat', default: 1 },
  label: { format: String, default: 'pool' },
});
type PoolSettings = SettingsOf<typeof poolSchema>;

@resource({ settings: poolSchema })
class Pool {
  readonly changes: Array<[PoolSettings, PoolSettings]> = [];

  constructor(@inject(SETTINGS) readonly settings: SettingsView<PoolSettings>) {}

  onSettingsChange(next: PoolSettings, previous: PoolSettings): void {
    this.changes.push([next, previous]);
  }
}

@microservice({ name: 'pool_service', resources: { pool: Pool } })
class PoolService extends Microservice {}

describeWithEtcd('a service configured from etcd', () => {
  let cluster: EtcdCluster;
  let client: Etcd3;
  const apps: App[] = [];
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    client = etcdClient(cluster.members);
  });

  afterEach(async () => {
    killAll(processes.splice(0));
    await Promise.all(apps.splice(0).map((app) => app.stop()));
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  function etcdEnv(prefix: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_PREFIX: prefix, ...FREE_PORTS, ...extra };
  }

  it('reads a tree pushed by `keel settings push` through a resource view, with the per-service override merged', async () => {
    const env = etcdEnv('pushed/');
    expect((await keel(['settings', 'push', SAMPLE_SETTINGS], env)).code).toBe(0);
    const app = await createMicroservice(AnnouncerService, { env, cwd: __dirname, log: quietLog() });
    apps.push(app);
    expect(app.settings.view('system.resources.announcer').value()).toEqual({
      greeting: 'Hello',
      audience: 'everyone',
      volume: 'loud',
      api_token: 's3cr3t-from-etcd',
    });
    expect(app.settings.get('system.deploy_name')).toBe('local');
  });

  it('calls onSettingsChange with next and previous values after a live update', async () => {
    const app = await createMicroservice(PoolService, {
      env: etcdEnv('live/'),
      cwd: __dirname,
      log: quietLog(),
    });
    apps.push(app);
    await app.start();
    const pool = app.get(Pool);
    await putSetting(client, 'live/', 'system.resources.pool.size', 8);
    await until(() => pool.changes.length === 1, 10_000, 'onSettingsChange');
    expect(pool.changes[0]).toEqual([
      { size: 8, label: 'pool' },
      { size: 1, label: 'pool' },
    ]);
    expect(pool.settings.get('size')).toBe(8);
  });

  it('waits for the check key written 2 s after boot, then starts', async () => {
    const env = etcdEnv('late/', { KEEL_ETCD_CHECK_KEY: 'late_ready' });
    const service = spawnService(SAMPLE, env);
    processes.push(service);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(service.output()).not.toMatch(/ready in/);
    expect(service.child.exitCode).toBeNull();
    expect((await keel(['settings', 'push', SAMPLE_SETTINGS], env)).code).toBe(0);
    await service.waitFor(/announcer started: HELLO, EVERYONE!/);
    await service.waitFor(/ready in/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 naming the hosts and the cause when etcd stays unreachable for KEEL_ETCD_WAIT_MS', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const service = spawnService(SAMPLE, { KEEL_ETCD_HOSTS: host, KEEL_ETCD_WAIT_MS: '1500', ...FREE_PORTS });
    processes.push(service);
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.output()).toMatch(
      new RegExp(`etcd unreachable at ${host} for 1500 ms \\(KEEL_ETCD_WAIT_MS\\): .+`),
    );
  });

  it('runs the sample: reacts to a live change, rejects an invalid one, keeps secrets out of the log', async () => {
    const env = etcdEnv('sample/');
    await keel(['settings', 'push', SAMPLE_SETTINGS], env);
    const service = spawnService(SAMPLE, env);
    processes.push(service);
    await service.waitFor(/HELLO, EVERYONE!/);
    await putSetting(
      client,
      'sample/',
      'system.microservices.settings_etcd.resources.announcer.volume',
      'normal',
    );
    await service.waitFor(/settings changed \(volume\): now "Hello, everyone!"/);
    await putSetting(client, 'sample/', 'system.resources.announcer.volume', 'deafening');
    await putSetting(
      client,
      'sample/',
      'system.microservices.settings_etcd.resources.announcer.volume',
      'deafening',
    );
    await service.waitFor(
      /Rejected etcd update sample\/system\/microservices\/settings_etcd\/resources\/announcer\/volume = "deafening"/,
    );
    await putSetting(client, 'sample/', 'system.resources.announcer.api_token', 'new-secret-value');
    await service.waitFor(/settings changed \(api_token\)/);
    await putSetting(client, 'sample/', 'system.resources.announcer.greeting', 'Hola');
    await service.waitFor(/settings changed \(greeting\): now "Hola, everyone!"/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.output()).not.toMatch(/new-secret-value|s3cr3t-from-etcd/);
  });
});
