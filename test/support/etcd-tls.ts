import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdTls } from './etcd';

/** A throwaway CA and a server certificate for `ip` (127.0.0.1 by default), made with the openssl command. */
export function loopbackCertificates(ip = '127.0.0.1'): EtcdTls & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keel-etcd-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=keel-test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${ip}`,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  writeFileSync(file('san.cnf'), `subjectAltName=IP:${ip}\n`);
  openssl(
    'x509',
    '-req',
    '-days',
    '1',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-extfile',
    file('san.cnf'),
    '-out',
    file('server.pem'),
  );
  return { dir, certFile: file('server.pem'), keyFile: file('server.key'), caFile: file('ca.pem') };
}
