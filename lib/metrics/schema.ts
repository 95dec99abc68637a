import type { Schema } from 'convict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `system.resources.metrics`, with Tamarco's keys. */
export interface MetricsSettings {
  collect_frequency: number;
  handlers: {
    prometheus: { enabled: boolean };
    carbon: { enabled: boolean; host: string; port: number; max_buffered_lines: number };
    file: { enabled: boolean; path: string };
    stdout: { enabled: boolean };
  };
}

export const metricsSchema: Schema<MetricsSettings> = {
  collect_frequency: {
    doc: 'Seconds between two pushes to the carbon, file and stdout handlers.',
    format: 'duration_seconds',
    default: 10,
  },
  handlers: {
    prometheus: {
      enabled: { doc: 'Serve the Prometheus text format at GET /metrics.', format: Boolean, default: true },
    },
    carbon: {
      enabled: { doc: 'Push to carbon (plaintext protocol over TCP).', format: Boolean, default: false },
      host: { doc: 'Carbon host.', format: String, default: '127.0.0.1' },
      port: { doc: 'Carbon plaintext port.', format: 'port', default: 2003 },
      max_buffered_lines: {
        doc: 'Lines kept while carbon is unreachable; older ones are dropped and counted beyond this.',
        format: 'nat',
        default: 10_000,
      },
    },
    file: {
      enabled: { doc: 'Append carbon-format lines to a file.', format: Boolean, default: false },
      path: {
        doc: 'File the lines are appended to.',
        format: String,
        default: join(tmpdir(), 'keel_metrics'),
      },
    },
    stdout: {
      enabled: { doc: 'Write carbon-format lines to stdout.', format: Boolean, default: false },
    },
  },
};
