import { etcdOptionsFromEnv } from '../../../lib/settings';
import { entriesOfTree, treeFromEntries } from '../../../lib/settings/etcd-keys';

describe('etcdOptionsFromEnv', () => {
  it('is undefined without KEEL_ETCD_HOSTS, so no etcd layer is used', () => {
    expect(etcdOptionsFromEnv({})).toBeUndefined();
    expect(etcdOptionsFromEnv({ KEEL_ETCD_HOSTS: ' , ' })).toBeUndefined();
  });

  it('reads hosts, prefix, check key, bounds, TLS and auth', () => {
    expect(
      etcdOptionsFromEnv({
        KEEL_ETCD_HOSTS: '10.0.0.1:2379, https://10.0.0.2:2379',
        KEEL_ETCD_PREFIX: 'prod',
        KEEL_ETCD_CHECK_KEY: 'etcd_ready',
        KEEL_ETCD_WAIT_MS: '5000',
        KEEL_ETCD_CALL_TIMEOUT_MS: '250',
        KEEL_ETCD_CA_FILE: 'ca.pem',
        KEEL_ETCD_CERT_FILE: 'client.pem',
        KEEL_ETCD_KEY_FILE: 'client-key.pem',
        KEEL_ETCD_USERNAME: 'keel',
        KEEL_ETCD_PASSWORD: 'pw',
      }),
    ).toEqual({
      hosts: ['10.0.0.1:2379', 'https://10.0.0.2:2379'],
      prefix: 'prod/',
      checkKey: 'etcd_ready',
      waitMs: 5000,
      callTimeoutMs: 250,
      stallTimeoutMs: 3_000,
      tls: { caFile: 'ca.pem', certFile: 'client.pem', keyFile: 'client-key.pem' },
      auth: { username: 'keel', password: 'pw' },
    });
  });

  it('defaults to the keel/ prefix and a 60 s wait', () => {
    expect(etcdOptionsFromEnv({ KEEL_ETCD_HOSTS: '127.0.0.1:2379' })).toEqual({
      hosts: ['127.0.0.1:2379'],
      prefix: 'keel/',
      waitMs: 60_000,
      callTimeoutMs: 5_000,
      stallTimeoutMs: 3_000,
    });
  });

  it('rejects a wait that is not a number of milliseconds', () => {
    expect(() => etcdOptionsFromEnv({ KEEL_ETCD_HOSTS: 'h:1', KEEL_ETCD_WAIT_MS: '1m' })).toThrow(
      expect.objectContaining({
        code: 'SETTINGS_ETCD_OPTIONS',
        message: 'KEEL_ETCD_WAIT_MS must be an integer number of milliseconds from 0 to 2147483647, got "1m"',
      }),
    );
  });
});

describe('etcd keys', () => {
  it('stores one JSON value per leaf and reads the same tree back', () => {
    const tree = {
      system: {
        port: 8080,
        text: '8080',
        flag: false,
        none: null,
        list: [1, 'a'],
        empty: {},
        nested: { deep: 'x' },
      },
    };
    const entries = entriesOfTree('keel/', tree, 'a test');
    expect(entries).toContainEqual(['keel/system/port', '8080']);
    expect(entries).toContainEqual(['keel/system/text', '"8080"']);
    expect(entries).toContainEqual(['keel/system/nested/deep', '"x"']);
    expect(treeFromEntries('keel/', entries)).toEqual(tree);
  });

  it('refuses a key that is empty or holds "/", naming it and where it came from', () => {
    expect(() => entriesOfTree('keel/', { system: { 'a/b': { c: 1 } } }, 'file x.yml')).toThrow(
      'Refused settings key "system.a/b.c" (from file x.yml): "a/b" holds "/", which separates levels in etcd keys (it would be written as system.a.b.c); nest it instead',
    );
    expect(() => entriesOfTree('keel/', { system: { '': { x: 1 } } }, 'file x.yml')).toThrow(
      'Refused settings key "system."".x" (from file x.yml): an empty key has no etcd key of its own',
    );
  });

  it('maps a tree of 130,000 leaves, in key order', () => {
    const wide = Object.fromEntries(Array.from({ length: 130_000 }, (_, index) => [`k${index}`, index]));
    const entries = entriesOfTree('keel/', { system: { wide, after: true } }, 'a test');
    expect(entries).toHaveLength(130_001);
    expect(entries[0]).toEqual(['keel/system/wide/k0', '0']);
    expect(entries[130_000]).toEqual(['keel/system/after', 'true']);
  });

  it('ignores keys outside the prefix and keeps a value put by hand that is not JSON as a string', () => {
    expect(
      treeFromEntries('keel/', [
        ['other/system/port', '1'],
        ['keel/system/name', 'plain text'],
      ]),
    ).toEqual({ system: { name: 'plain text' } });
  });
});
