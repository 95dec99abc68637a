import { rmSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { maskText, SettingsProvider, type SettingsError } from '../../../lib/settings';
import { until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient, putSetting } from '../../support/etcd-client';
import { loopbackCertificates } from '../../support/etcd-tls';

jest.setTimeout(60_000);

const PORT = 'system.resources.http.port';

function load(env: NodeJS.ProcessEnv): Promise<SettingsProvider> {
  return SettingsProvider.load({
    serviceName: 'billing',
    scopes: [],
    env,
    cwd: __dirname,
    warn: () => undefined,
  });
}

describeWithEtcd('etcd access options', () => {
  describe('with authentication enabled', () => {
    let cluster: EtcdCluster;
    let admin: Etcd3;

    beforeAll(async () => {
      cluster = await EtcdCluster.start(1);
      const setup = etcdClient(cluster.members);
      await putSetting(setup, 'keel/', PORT, 7000);
      await setup.role('root').create();
      await setup.user('root').create('root-secret');
      await setup.user('root').addRole('root');
      await setup.auth.authEnable();
      setup.close();
      admin = etcdClient(cluster.members, { username: 'root', password: 'root-secret' });
    });

    afterAll(async () => {
      admin?.close();
      await cluster?.stop();
    });

    it('reads and watches with KEEL_ETCD_USERNAME and KEEL_ETCD_PASSWORD', async () => {
      const settings = await load({
        KEEL_ETCD_HOSTS: cluster.hosts,
        KEEL_ETCD_USERNAME: 'root',
        KEEL_ETCD_PASSWORD: 'root-secret',
      });
      expect(settings.get(PORT)).toBe(7000);
      // Not a setting, but masked as one is, wherever Keel prints text.
      expect(maskText('etcd refused root-secret')).toBe('etcd refused [redacted]');
      await putSetting(admin, 'keel/', PORT, 7001);
      await until(() => settings.get(PORT) === 7001, 10_000, 'the update');
      await settings.close();
    });

    it.each([
      [
        'a wrong password',
        { KEEL_ETCD_USERNAME: 'root', KEEL_ETCD_PASSWORD: 'nope' },
        'KEEL_ETCD_USERNAME=root',
      ],
      ['no credentials', {}, 'KEEL_ETCD_USERNAME unset'],
    ])(
      'fails at once with SETTINGS_ETCD_AUTH on %s, without waiting KEEL_ETCD_WAIT_MS',
      async (_, credentials, shown) => {
        const error = (await load({
          KEEL_ETCD_HOSTS: cluster.hosts,
          KEEL_ETCD_WAIT_MS: '600000',
          ...credentials,
        }).catch((caught: unknown) => caught)) as SettingsError;
        expect(error.code).toBe('SETTINGS_ETCD_AUTH');
        expect(error.message).toContain(`etcd at ${cluster.hosts} refused access (${shown}): `);
        expect(error.message).not.toContain('nope');
      },
    );
  });

  describe('over TLS', () => {
    let certificates: ReturnType<typeof loopbackCertificates>;
    let cluster: EtcdCluster;

    beforeAll(async () => {
      certificates = loopbackCertificates();
      cluster = await EtcdCluster.start(1, certificates);
    });

    afterAll(async () => {
      await cluster?.stop();
      if (certificates) rmSync(certificates.dir, { recursive: true, force: true });
    });

    it('connects with KEEL_ETCD_CA_FILE and reads the settings', async () => {
      const settings = await load({
        KEEL_ETCD_HOSTS: `https://${cluster.hosts}`,
        KEEL_ETCD_CA_FILE: certificates.caFile,
      });
      expect(settings.get('system.resources')).toBeUndefined();
      await settings.close();
    });

    it('fails naming the variable when a PEM file cannot be read', async () => {
      await expect(
        load({
          KEEL_ETCD_HOSTS: `https://${cluster.hosts}`,
          KEEL_ETCD_CA_FILE: `${certificates.dir}/missing.pem`,
        }),
      ).rejects.toMatchObject({
        code: 'SETTINGS_ETCD_OPTIONS',
        message: expect.stringContaining('Cannot read KEEL_ETCD_CA_FILE'),
      });
    });

    it('does not trust a server whose CA it was not given', async () => {
      const error = await load({ KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_WAIT_MS: '1000' }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'SETTINGS_ETCD_UNREACHABLE' });
    });

    it('with the wrong CA, shows the TLS error of the last real attempt, and logs progress while it waits', async () => {
      const wrong = loopbackCertificates();
      const progress: string[] = [];
      try {
        const error = await SettingsProvider.load({
          serviceName: 'billing',
          scopes: [],
          env: {
            KEEL_ETCD_HOSTS: `https://${cluster.hosts}`,
            KEEL_ETCD_CA_FILE: wrong.caFile,
            KEEL_ETCD_WAIT_MS: '4000',
          },
          cwd: __dirname,
          warn: (message) => progress.push(message),
        }).catch((caught: unknown) => caught as SettingsError);
        expect(error).toMatchObject({ code: 'SETTINGS_ETCD_UNREACHABLE' });
        const { message } = error as SettingsError;
        expect(message).not.toContain('circuit breaker');
        expect(message).toMatch(/certificate|self[- ]signed/i);
        expect(progress.length).toBeGreaterThanOrEqual(1);
        expect(progress[0]).toMatch(
          /^waiting for etcd at https:\/\/127\.0\.0\.1:\d+: attempt \d+ failed \(.*(certificate|self[- ]signed).*\); next attempt in \d+ ms, giving up in \d+ s \(KEEL_ETCD_WAIT_MS\)$/i,
        );
      } finally {
        rmSync(wrong.dir, { recursive: true, force: true });
      }
    });
  });
});
