import type { Registry } from 'prom-client';
import type { InstanceIdentity } from '../../identity/instance';

/** Where the lines come from: a `Meters` fits. */
export interface MetricsSource {
  readonly registry: Registry;
  readonly prefix: string;
}

/** The first three path components: `<deploy>.<service>.<host>`. */
export interface GraphiteIdentity {
  deployName: string;
  serviceName: string;
  hostname: string;
  /** Tags on every line: which process and which build sent it. */
  instance?: InstanceIdentity;
}

/**
 * Every series as a carbon plaintext line, `<deploy>.<service>.<host>.<metric>;<label>=<value> <value> <time>`.
 * Labels become Graphite tags (Graphite >= 1.1) instead of path components, so adding a label
 * does not move a series to another path. The service prefix is left out of `<metric>`: the path
 * already names the service.
 */
export async function graphiteLines(
  source: MetricsSource,
  identity: GraphiteIdentity,
  unixSeconds = Math.floor(Date.now() / 1000),
): Promise<string[]> {
  const root = [identity.deployName, identity.serviceName, identity.hostname].map(pathComponent).join('.');
  const instanceTags =
    identity.instance === undefined
      ? ''
      : tags({
          instance_id: identity.instance.instance_id,
          version: identity.instance.version,
          revision: identity.instance.revision,
        });
  const lines: string[] = [];
  for (const metric of await source.registry.getMetricsAsJSON()) {
    for (const sample of metric.values) {
      // Graphite cannot store NaN (an empty summary's quantiles) nor infinities.
      if (!Number.isFinite(sample.value)) continue;
      const name = (sample as { metricName?: string }).metricName ?? metric.name;
      const unprefixed = name.startsWith(source.prefix) ? name.slice(source.prefix.length) : name;
      lines.push(
        `${root}.${pathComponent(unprefixed)}${tags(sample.labels)}${instanceTags} ${sample.value} ${unixSeconds}`,
      );
    }
  }
  return lines;
}

/** Dots separate path levels, so a dotted host name must not add levels. */
function pathComponent(text: string): string {
  return text.replace(/[^a-zA-Z0-9_:-]/g, '_');
}

function tags(labels: Readonly<Record<string, string | number | undefined>>): string {
  let text = '';
  for (const [name, value] of Object.entries(labels)) {
    if (value === undefined || value === '') continue;
    // Graphite forbids ';' in tag values and a leading '~'; whitespace would end the line's path.
    text += `;${name}=${String(value).replace(/[\s;]/g, '_').replace(/^~/, '_')}`;
  }
  return text;
}
