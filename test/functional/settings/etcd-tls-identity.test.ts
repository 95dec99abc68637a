import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { SettingsProvider } from '../../../lib/settings';
import { pinDialledHosts } from '../../../lib/settings/etcd-client';
import { freePorts } from '../../support/ports';
import { loopbackCertificates } from '../../support/etcd-tls';

// etcd reached by IP address over TLS: no IP goes out as the TLS server name (Node 26 refuses one),
// and the certificate is still checked against the address the client was given. A TLS server that
// completes handshakes and nothing more is enough to tell which certificates the client accepts.

jest.setTimeout(30_000);

type Certificates = ReturnType<typeof loopbackCertificates>;

async function tlsServer(
  certificates: Certificates,
  handshakes: string[],
  aborted: Error[] = [],
): Promise<Server> {
  const server = createServer(
    {
      cert: readFileSync(certificates.certFile),
      key: readFileSync(certificates.keyFile),
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      handshakes.push(String(socket.servername));
      socket.destroy();
    },
  );
  server.on('tlsClientError', (error) => aborted.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function load(server: Server, caFile: string, others: string[] = []): Promise<unknown> {
  const { port } = server.address() as AddressInfo;
  return SettingsProvider.load({
    serviceName: 'billing',
    scopes: [],
    env: {
      KEEL_ETCD_HOSTS: [`https://127.0.0.1:${port}`, ...others].join(','),
      KEEL_ETCD_CA_FILE: caFile,
      KEEL_ETCD_WAIT_MS: '1000',
    },
    cwd: __dirname,
    warn: () => undefined,
  }).catch((caught: unknown) => caught);
}

describe('etcd over TLS by IP address', () => {
  const made: Certificates[] = [];
  const servers: Server[] = [];

  afterAll(() => {
    for (const server of servers) server.close();
    for (const certificates of made) rmSync(certificates.dir, { recursive: true, force: true });
  });

  it('completes the handshake with a certificate for that address, sending no IP as server name', async () => {
    const certificates = loopbackCertificates('127.0.0.1');
    made.push(certificates);
    const handshakes: string[] = [];
    const server = await tlsServer(certificates, handshakes);
    servers.push(server);
    await load(server, certificates.caFile); // the server hangs up after the handshake: no etcd here
    expect(handshakes.length).toBeGreaterThan(0);
    expect(handshakes.filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name))).toEqual([]);
  });

  it('refuses a certificate for another address, though signed by the trusted CA', async () => {
    const certificates = loopbackCertificates('127.0.0.2');
    made.push(certificates);
    const handshakes: string[] = [];
    const aborted: Error[] = [];
    const server = await tlsServer(certificates, handshakes, aborted);
    servers.push(server);
    const error = await load(server, certificates.caFile);
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_UNREACHABLE' });
    // The client hung up on the certificate: no handshake completed, though it tried.
    expect(handshakes).toEqual([]);
    expect(aborted.length).toBeGreaterThan(0);
  });

  it('checks the certificate against the member it dials, not against any configured one', async () => {
    // Valid for 127.0.0.2, a configured member, but served from 127.0.0.1.
    const certificates = loopbackCertificates('127.0.0.2');
    made.push(certificates);
    const handshakes: string[] = [];
    const aborted: Error[] = [];
    const server = await tlsServer(certificates, handshakes, aborted);
    servers.push(server);
    const [unused] = await freePorts(1);
    const error = await load(server, certificates.caFile, [`https://127.0.0.2:${unused}`]);
    expect(error).toMatchObject({ code: 'SETTINGS_ETCD_UNREACHABLE' });
    expect(handshakes).toEqual([]);
    expect(aborted.length).toBeGreaterThan(0);
  });

  it("finds one Host per member in etcd3's pool, where each gets credentials of its own (contract)", async () => {
    const { Etcd3 } = await import('etcd3');
    const client = new Etcd3({ hosts: ['https://127.0.0.1:1', 'https://127.0.0.2:1'] });
    const pinned: string[] = [];
    try {
      expect(pinDialledHosts(client, (address) => pinned.push(address))).toBe(true);
      expect(pinned).toEqual(['127.0.0.1:1', '127.0.0.2:1']);
    } finally {
      client.close();
    }
  });
});
