import { defineSettings, type SettingsOf } from '../../settings/schema';

const common = {
  enabled: {
    doc: 'Turns it on (and its /debug endpoint on the report server)',
    format: Boolean,
    default: false,
  },
  interval_s: { doc: 'Seconds between two reports in the log', format: 'duration_seconds', default: 60 },
  top: { doc: 'Rows of each report', format: 'nat', default: 20 },
  directory: {
    doc: 'Where files are written (created 0700; refused when a link, not ours or writable by others); empty: keel-<service> in the temp directory',
    format: String,
    default: '',
  },
  max_files: { doc: 'Files kept in directory; the oldest go first', format: 'nat', default: 10 },
} as const;

/** `system.resources.profiler`. */
export const profilerSchema = defineSettings({
  ...common,
  sampling_interval_us: {
    doc: 'Microseconds between two CPU samples (V8 default 1000): smaller sees more, costs more',
    format: 'nat',
    default: 1000,
  },
  max_on_demand: {
    doc: 'Most /debug/profile requests profiling at once (each costs a second inspector session); more get 429',
    format: 'nat',
    default: 2,
  },
});

export type ProfilerSettings = SettingsOf<typeof profilerSchema>;

/** `system.resources.memory_analyzer`. */
export const memoryAnalyzerSchema = defineSettings({
  ...common,
  interval_s: { ...common.interval_s, default: 30 },
  max_files: { ...common.max_files, default: 3 },
  sampling_interval_bytes: {
    doc: 'Average bytes allocated between two heap samples (V8 default 32768; each sample costs a stack walk): smaller sees more, costs more',
    format: 'nat',
    default: 131_072,
  },
});

export type MemoryAnalyzerSettings = SettingsOf<typeof memoryAnalyzerSchema>;
