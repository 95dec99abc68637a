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
