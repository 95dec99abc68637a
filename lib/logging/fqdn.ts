import os from 'node:os';

/** Like Python's socket.getfqdn(), which Tamarco's `logstash.fqdn` used; the short name when DNS cannot tell. */
export async function fullyQualifiedHostName(): Promise<string> {
  const short = os.hostname();
  // Required here, not at the top: only `logstash.fqdn` needs the resolver, and loading it costs every
  // start. `require`, not `import()`: jest's vm refuses a dynamic import inside Keel's bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dns = require('node:dns/promises') as typeof import('node:dns/promises');
  try {
    const { address } = await dns.lookup(short);
    const { hostname } = await dns.lookupService(address, 0);
    return hostname;
  } catch {
    return short;
  }
}
