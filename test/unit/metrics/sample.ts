import convict from 'convict';

import { type Meters, metricsSchema, type MetricsSettings } from '../../../lib/metrics';
import { convictSchema } from '../../../lib/settings/formats';

/** The value of one series as prom-client reports it, or undefined when the series does not exist. */
export async function sampleValue(
  meters: Meters,
  metricName: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  for (const metric of await meters.registry.getMetricsAsJSON()) {
    for (const sample of metric.values) {
      const name = (sample as { metricName?: string }).metricName ?? metric.name;
      const sameLabels =
        Object.keys(sample.labels).length === Object.keys(labels).length &&
        Object.entries(labels).every(([key, value]) => String(sample.labels[key]) === value);
      if (name === metricName && sameLabels) return sample.value;
    }
  }
  return undefined;
}

/** `system.resources.metrics` as the settings layer would hand it over: defaults under `values`. */
export function metricsSettings(values: Record<string, unknown>): MetricsSettings {
  const config = convict(convictSchema(metricsSchema));
  config.load(values);
  config.validate({ allowed: 'strict' });
  return config.getProperties();
}
