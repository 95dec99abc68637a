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
    doc: 'Longest a graceful stop may take before `run` forces the process out with exit code 3',
    format: 'duration',
    default: 30_000,
  },
};

export const LIFECYCLE_SETTINGS_PATH = 'system.lifecycle';

export interface LifecycleSettings {
  hook_timeout_ms: number;
  stop_timeout_ms: number;
}

/** `<prefix>settings_staleness_seconds`: how long since the etcd member serving the watch last answered. */
export function instrumentSettings(meters: Meters, settings: SettingsProvider): void {
  new Gauge({
    name: `${meters.prefix}settings_staleness_seconds`,
    help: 'Seconds since the etcd member serving the settings watch last answered (0 without etcd)',
    registers: [meters.registry],
    collect() {
      this.set(settings.health().etcd?.staleness_s ?? 0);
    },
  });
}
