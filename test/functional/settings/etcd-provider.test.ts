import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import {
  SettingsError,
  SettingsProvider,
  type SettingsLoadOptions,
  type SettingsOf,
} from '../../../lib/settings';
import { until } from '../../support/async';
import { closedPort, describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient, putSetting } from '../../support/etcd-client';
import { httpSchema } from '../../unit/settings/schemas';

jest.setTimeout(60_000);

const HTTP = 'system.resources.http';
const PORT = 'system.resources.http.port';
let prefixes = 0;

function uniquePrefix(): string {
  prefixes += 1;
  return `test${prefixes}/`;
}

function loadFrom(
  hosts: string,
  prefix: string,
  options: Partial<SettingsLoadOptions> = {},
): Promise<SettingsProvider> {
  return SettingsProvider.load({
    serviceName: 'billing',
    scopes: [{ path: HTTP, owner: 'http', schema: httpSchema }],
    env: { KEEL_ETCD_HOSTS: hosts, KEEL_ETCD_PREFIX: prefix, KEEL_ETCD_WAIT_MS: '20000' },
    cwd: __dirname,
    warn: () => undefined,
    ...options,
  });
}

describeWithEtcd('etcd settings layer, one member', () => {
  let cluster: EtcdCluster;
  let client: Etcd3;
  const open: SettingsProvider[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    client = etcdClient(cluster.members);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((provider) => provider.close()));
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  async function provider(
    prefix: string,
    options: Partial<SettingsLoadOptions> = {},
  ): Promise<SettingsProvider> {
    const loaded = await loadFrom(cluster.hosts, prefix, options);
    open.push(loaded);
    return loaded;
  }

  it('places etcd between file and environment', async () => {
    const prefix = uniquePrefix();
    await putSetting(client, prefix, PORT, 7000);
    await putSetting(client, prefix, 'system.resources.http.host', '10.1.1.1');
    const dir = mkdtempSync(join(tmpdir(), 'keel-layers-'));
    writeFileSync(
      join(dir, 'file.yaml'),
      'system:\n  resources:\n    http:\n      port: 6000\n      mode: fast\n',
    );
    const settings = await provider(prefix, {
      cwd: dir,
      env: {
        KEEL_ETCD_HOSTS: cluster.hosts,
        KEEL_ETCD_PREFIX: prefix,
        KEEL_CONFIG_FILE: 'file.yaml',
        KEEL__SYSTEM__RESOURCES__HTTP__HOST: '10.2.2.2',
      },
    });
    expect(settings.view(HTTP).value()).toMatchObject({
      port: 7000,
      host: '10.2.2.2',
      mode: 'fast',
      debug: false,
    });
  });

  it('delivers a live update to view watchers and to the scope watcher used for onSettingsChange', async () => {
    const prefix = uniquePrefix();
    await putSetting(client, prefix, PORT, 7000);
    const settings = await provider(prefix);
    const http = settings.view<SettingsOf<typeof httpSchema>>(HTTP);
    const changes: Array<[unknown, unknown]> = [];
    http.watch('', (next, previous) =>
      changes.push([(next as { port: number }).port, (previous as { port: number }).port]),
    );
    await putSetting(client, prefix, PORT, 7001);
    await until(() => changes.length === 1, 10_000, 'the update');
    expect(changes).toEqual([[7001, 7000]]);
    expect(http.get('port')).toBe(7001);
  });

  it('applies 100 rapid updates to one key in order and ends at the final value', async () => {
    const prefix = uniquePrefix();
    const settings = await provider(prefix);
    const seen: number[] = [];
    settings.watch(PORT, (next) => seen.push(next as number));
    for (let port = 1; port <= 100; port++) await putSetting(client, prefix, PORT, port);
    await until(() => settings.get(PORT) === 100, 10_000, 'the final value');
    expect(seen[seen.length - 1]).toBe(100);
    expect(seen.every((port, index) => index === 0 || port > seen[index - 1])).toBe(true);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
  });

  it('rejects an invalid live value, naming key and value, and keeps the previous one', async () => {
    const prefix = uniquePrefix();
    await putSetting(client, prefix, PORT, 7000);
    const rejected: SettingsError[] = [];
    const settings = await provider(prefix, { onUpdateRejected: (error) => rejected.push(error) });
    const seen: unknown[] = [];
    settings.watch(PORT, (next) => seen.push(next));
    await putSetting(client, prefix, PORT, 'abc');
    await until(() => rejected.length === 1, 10_000, 'the rejection');
    expect(rejected[0].code).toBe('SETTINGS_UPDATE_REJECTED');
    expect(rejected[0].message).toContain(`Rejected etcd update ${prefix}system/resources/http/port = "abc"`);
    expect(rejected[0].message).toContain(
      'system.resources.http.port: expected port (integer 0-65535), got "abc"',
    );
    expect(settings.view(HTTP).get('port')).toBe(7000);
    await putSetting(client, prefix, PORT, 7002);
    await until(() => seen.length === 1, 10_000, 'the next valid update');
    expect(seen).toEqual([7002]);
  });

  it('redacts secret values in a rejected update', async () => {
    const prefix = uniquePrefix();
    const rejected: SettingsError[] = [];
    const settings = await provider(prefix, {
      scopes: [
        { path: 'system.resources.db', owner: 'db', schema: { password: { format: String, default: 'x' } } },
      ],
      onUpdateRejected: (error) => rejected.push(error),
    });
    await putSetting(client, prefix, 'system.resources.db.password', { leaked: 'hunter2' });
    await until(() => rejected.length === 1, 10_000, 'the rejection');
    expect(rejected[0].message).toContain('= [redacted]');
    expect(rejected[0].message).not.toContain('hunter2');
    expect(settings.get('system.resources.db.password')).toBe('x');
  });

  it('removes a deleted key, falling back to the lower layers', async () => {
    const prefix = uniquePrefix();
    await putSetting(client, prefix, PORT, 7000);
    const settings = await provider(prefix);
    await client.delete().key(`${prefix}system/resources/http/port`);
    await until(() => settings.get(PORT) === 8080, 10_000, 'the schema default');
  });

  it('keeps watching across an etcd restart on the same data dir, without duplicates', async () => {
    const prefix = uniquePrefix();
    const warnings: string[] = [];
    const settings = await provider(prefix, { warn: (message) => warnings.push(message) });
    const seen: unknown[] = [];
    settings.watch(PORT, (next) => seen.push(next));
    await putSetting(client, prefix, PORT, 1);
    await until(() => seen.length === 1, 10_000, 'the first update');
    await cluster.restart(cluster.members[0]);
    await putSetting(client, prefix, PORT, 2);
    await until(() => seen.length === 2, 20_000, 'the update after the restart');
    await putSetting(client, prefix, PORT, 3);
    await until(() => seen.length === 3, 10_000, 'one more update');
    expect(seen).toEqual([1, 2, 3]);
    expect(warnings.filter((message) => message.includes('disconnected'))).toHaveLength(1);
    expect(warnings.filter((message) => message.includes('resumed after revision'))).toHaveLength(1);
  });

  it('waits for the check key, then loads', async () => {
    const prefix = uniquePrefix();
    await putSetting(client, prefix, PORT, 7100);
    let loaded = false;
    const loading = provider(prefix, {
      env: {
        KEEL_ETCD_HOSTS: cluster.hosts,
        KEEL_ETCD_PREFIX: prefix,
        KEEL_ETCD_CHECK_KEY: `${prefix}ready`,
      },
    }).then((settings) => {
      loaded = true;
      return settings;
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(loaded).toBe(false);
    await client.put(`${prefix}ready`).value('true');
    const settings = await loading;
    expect(settings.view(HTTP).get('port')).toBe(7100);
  });

  it('fails naming the check key when it never appears within KEEL_ETCD_WAIT_MS', async () => {
    const error = await loadFrom(cluster.hosts, uniquePrefix(), {
      env: { KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_CHECK_KEY: 'never_written', KEEL_ETCD_WAIT_MS: '300' },
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_CHECK_KEY' });
    expect((error as Error).message).toContain(
      `etcd key "never_written" (KEEL_ETCD_CHECK_KEY) did not appear on ${cluster.hosts}`,
    );
  });
});

// Needs no etcd binary: nothing listens on the port.
describe('etcd settings layer, unreachable', () => {
  it('retries within KEEL_ETCD_WAIT_MS, then fails naming the hosts and the cause', async () => {
    const host = `127.0.0.1:${await closedPort()}`;
    const error = await loadFrom(host, 'keel/', {
      env: { KEEL_ETCD_HOSTS: host, KEEL_ETCD_WAIT_MS: '1500' },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SettingsError);
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_UNREACHABLE' });
    expect((error as Error).message).toMatch(
      new RegExp(`^etcd unreachable at ${host} for 1500 ms \\(KEEL_ETCD_WAIT_MS\\): .+`),
    );
  });
});
