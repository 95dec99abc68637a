import type { Meters } from '../metrics';
import { Gauge } from '../metrics/prom-client';
import type { SettingsProvider } from '../settings';

/** Keel's own lifecycle settings, under `system.lifecycle`. */
export const lifecycleSchema = {
  hook_timeout_ms: {
    doc: 'Longest a single resource hook (preStart, start, ...) may take before the phase fails',
    format: 'duration',
    default: 60_000,
  },
  stop_timeout_ms: {
    doc: 'Longest a graceful stop (or a start cancelled by a signal) may take before `run` forces the process out with exit code 3',
    format: 'duration',
    default: 30_000,
  },
  task_stop_share: {
    doc:
      'Share of stop_timeout_ms the tasks get to end once aborted (more than 0, less than 1); ' +
      'the resources then stop whether or not every task has ended',
    format: function share(value: unknown): void {
      if (typeof value !== 'number' || !(value > 0 && value < 1))
        throw new Error(`must be a number between 0 and 1 (both excluded), got ${JSON.stringify(value)}`);
    },
    default: 0.5,
  },
};

export const LIFECYCLE_SETTINGS_PATH = 'system.lifecycle';

export interface LifecycleSettings {
  hook_timeout_ms: number;
  stop_timeout_ms: number;
  task_stop_share: number;
}

/** `<prefix>settings_staleness_seconds`: how long since the etcd member serving the watch last answered. */
export function instrumentSettings(meters: Meters, settings: SettingsProvider): void {
  const name = `${meters.prefix}settings_staleness_seconds`;
  meters.addCollector(name, (registry) => {
    new Gauge({
      name,
      help: 'Seconds since the etcd member serving the settings watch last answered (0 without etcd)',
      registers: [registry],
      collect() {
        this.set(settings.health().etcd?.staleness_s ?? 0);
      },
    });
  });
}
