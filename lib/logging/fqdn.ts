import os from 'node:os';

/** Like Python's socket.getfqdn(), which Tamarco's `logstash.fqdn` used; the short name when DNS cannot tell. */
export async function fullyQualifiedHostName(): Promise<string> {
  const short = os.hostname();
  // Loaded here, not at the top: only `logstash.fqdn` needs the resolver, and loading it costs every start.
  const dns = await import('node:dns/promises');
  try {
    const { address } = await dns.lookup(short);
    const { hostname } = await dns.lookupService(address, 0);
    return hostname;
  } catch {
    return short;
  }
}
