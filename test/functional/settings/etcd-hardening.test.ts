import type { Etcd3 } from 'etcd3';
import { SettingsProvider, type SettingsError, type SettingsLoadOptions } from '../../../lib/settings';
import { until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient, putSetting } from '../../support/etcd-client';
import { httpSchema } from '../../unit/settings/schemas';

jest.setTimeout(60_000);

const HTTP = 'system.resources.http';

describeWithEtcd('etcd keys that name no setting', () => {
  let cluster: EtcdCluster;
  let client: Etcd3;
  let prefixCount = 0;
  let prefix: string;
  let rejected: string[];
  let warnings: string[];

  function load(options: Partial<SettingsLoadOptions> = {}): Promise<SettingsProvider> {
    return SettingsProvider.load({
      serviceName: 'billing',
      scopes: [{ path: HTTP, owner: 'http', schema: httpSchema }],
      env: { KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_PREFIX: prefix },
      cwd: __dirname,
      warn: (message) => warnings.push(message),
      onUpdateRejected: (error) => rejected.push(error.message),
      ...options,
    });
  }

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    client = etcdClient(cluster.members);
  });

  beforeEach(() => {
    prefix = `hardening${++prefixCount}/`;
    rejected = [];
    warnings = [];
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('refuses a __proto__ key at boot, naming it; Object.prototype stays clean', async () => {
    await client.put(`${prefix}system/resources/http/__proto__/polluted_too`).value('"yes"');
    const error = await load().catch((caught: unknown) => caught as SettingsError);
    expect(error).toMatchObject({ code: 'SETTINGS_UNSAFE_KEY' });
    expect((error as SettingsError).message).toContain(
      `Refused settings key "system.resources.http.__proto__.polluted_too" (from etcd ${prefix}system/resources/http/__proto__/polluted_too)`,
    );
    expect(({} as Record<string, unknown>).polluted_too).toBeUndefined();
  });

  it('refuses constructor/prototype keys and __proto__ inside a value put at run time, with a logged error', async () => {
    const settings = await load();
    await client.put(`${prefix}system/resources/http/constructor/prototype/polluted_live`).value('"yes"');
    await client.put(`${prefix}system/resources/http/limits`).value('{"__proto__":{"polluted_value":"yes"}}');
    await putSetting(client, prefix, `${HTTP}.port`, 9001);
    await until(() => settings.get(`${HTTP}.port`) === 9001);
    expect(rejected).toEqual([
      expect.stringContaining(
        `Refused settings key "system.resources.http.constructor.prototype.polluted_live" (from etcd ${prefix}system/resources/http/constructor/prototype/polluted_live)`,
      ),
      expect.stringContaining(
        `Refused settings key "system.resources.http.limits.__proto__.polluted_value" (from etcd ${prefix}system/resources/http/limits)`,
      ),
    ]);
    expect(({} as Record<string, unknown>).polluted_live).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted_value).toBeUndefined();
    expect(settings.get(`${HTTP}.limits`)).toEqual({ body_kb: 64, headers: 100 });
    await settings.close();
  });

  it('refuses malformed keys (a//b, a/b/) at boot and at run time with a logged error naming them', async () => {
    await putSetting(client, prefix, `${HTTP}.port`, 1000);
    await client.put(`${prefix}system/resources//http/port`).value('2000');
    const settings = await load();
    expect(settings.get(`${HTTP}.port`)).toBe(1000);
    expect(rejected).toEqual([
      `Refused etcd key "${prefix}system/resources//http/port": empty path segment (a doubled, leading or trailing "/"); the key is ignored`,
    ]);
    await client.put(`${prefix}system/resources/http/port/`).value('3000');
    await putSetting(client, prefix, `${HTTP}.host`, '0.0.0.0');
    await until(() => settings.get(`${HTTP}.host`) === '0.0.0.0');
    expect(settings.get(`${HTTP}.port`)).toBe(1000);
    expect(rejected[1]).toContain(`Refused etcd key "${prefix}system/resources/http/port/"`);
    await settings.close();
  });
});
