// etcd3's internals Keel relies on for TLS to members reached by IP (settings/etcd-client.ts):
// etcd3 makes its credentials with `grpc.credentials.createSsl` of its own copy of grpc-js, once, in
// its constructor, and keeps them on one pool Host per member, which Keel gives credentials of their
// own. Without that shape the client is refused with SETTINGS_ETCD_OPTIONS, never left unchecked.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as etcd3 from 'etcd3';
import { createEtcdClient } from '../../lib/settings/etcd-client';
import { etcdOptionsFromEnv } from '../../lib/settings/etcd-options';
import { loopbackCertificates } from '../support/etcd-tls';

type Grpc = typeof import('@grpc/grpc-js');

const grpc = createRequire(require.resolve('etcd3'))('@grpc/grpc-js') as Grpc;

interface PoolHosts {
  pool: { hosts: Array<{ host: string; channelCredentials: object }> };
}

const certificates = loopbackCertificates('127.0.0.1');
afterAll(() => rmSync(certificates.dir, { recursive: true, force: true }));

function options(hosts: string[]) {
  return etcdOptionsFromEnv({
    KEEL_ETCD_HOSTS: hosts.join(','),
    KEEL_ETCD_CA_FILE: certificates.caFile,
  })!;
}

/** etcd3's client class, as an upgrade that moved its pool would leave it. */
class PoolMoved extends etcd3.Etcd3 {
  private readonly connections: { close(): void };

  constructor(clientOptions?: etcd3.IOptions) {
    super(clientOptions);
    const self = this as unknown as { pool?: { close(): void } };
    this.connections = self.pool!;
    delete self.pool;
  }

  override close(): void {
    this.connections.close();
  }
}

/** etcd3's client class, as an upgrade that made its credentials after constructing would leave it. */
class CredentialsLater extends etcd3.Etcd3 {
  constructor(clientOptions?: etcd3.IOptions) {
    const hosts = [clientOptions?.hosts ?? []].flat().map((host) => host.replace(/^https:/, 'http:'));
    super({ ...clientOptions, hosts, credentials: undefined });
  }
}

describe("etcd3's credentials and connection pool", () => {
  afterEach(() => jest.restoreAllMocks());

  it("makes its credentials once, in its constructor, with createSsl of its own grpc-js, kept on each member's Host", () => {
    const createSsl = jest.spyOn(grpc.credentials, 'createSsl');
    const client = new etcd3.Etcd3({
      hosts: ['https://127.0.0.1:1', 'https://127.0.0.2:1'],
      credentials: { rootCertificate: Buffer.from('') },
    });
    try {
      expect(createSsl).toHaveBeenCalledTimes(1);
      const made = createSsl.mock.results[0].value as object;
      const { hosts } = (client as unknown as PoolHosts).pool;
      expect(hosts.map((host) => host.host)).toEqual(['127.0.0.1:1', '127.0.0.2:1']);
      expect(hosts.map((host) => host.channelCredentials)).toEqual([made, made]);
    } finally {
      client.close();
    }
  });

  it("gives each member by IP credentials of its own, through etcd3's pool", async () => {
    const client = await createEtcdClient<etcd3.Etcd3>(
      options(['https://127.0.0.1:2379', 'https://127.0.0.2:2379']),
    );
    try {
      const [first, second] = (client as unknown as PoolHosts).pool.hosts;
      expect(first.channelCredentials).toBeInstanceOf(grpc.ChannelCredentials);
      expect(second.channelCredentials).toBeInstanceOf(grpc.ChannelCredentials);
      expect(first.channelCredentials).not.toBe(second.channelCredentials);
    } finally {
      client.close();
    }
  });

  it('refuses several members by IP with SETTINGS_ETCD_OPTIONS when the pool is not there', async () => {
    jest.spyOn(etcd3, 'Etcd3').mockImplementation((clientOptions) => new PoolMoved(clientOptions));
    const error = await createEtcdClient(options(['https://127.0.0.1:2379', 'https://127.0.0.2:2379'])).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_OPTIONS' });
    expect((error as Error).message).toContain("etcd3's connection pool has not one Host");
    // One member needs no pool: its credentials are the ones made while constructing.
    const one = await createEtcdClient<etcd3.Etcd3>(options(['https://127.0.0.1:2379']));
    one.close();
  });

  it('refuses a member by IP with SETTINGS_ETCD_OPTIONS when etcd3 makes no credentials through createSsl', async () => {
    jest.spyOn(etcd3, 'Etcd3').mockImplementation((clientOptions) => new CredentialsLater(clientOptions));
    const error = await createEtcdClient(options(['https://127.0.0.1:2379'])).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_OPTIONS' });
    expect((error as Error).message).toContain('did not make its credentials with createSsl');
  });

  it("refuses a member by IP with SETTINGS_ETCD_OPTIONS when etcd3's grpc-js has no createSsl", async () => {
    jest.replaceProperty(grpc, 'credentials', {} as Grpc['credentials']);
    const error = await createEtcdClient(options(['https://127.0.0.1:2379'])).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_OPTIONS' });
    expect((error as Error).message).toContain('has no credentials.createSsl');
  });

  it('needs none of it for members named by DNS', async () => {
    jest.spyOn(etcd3, 'Etcd3').mockImplementation((clientOptions) => new PoolMoved(clientOptions));
    const client = await createEtcdClient<etcd3.Etcd3>(
      options(['https://etcd-a.internal:2379', 'https://etcd-b.internal:2379']),
    );
    client.close();
  });
});
