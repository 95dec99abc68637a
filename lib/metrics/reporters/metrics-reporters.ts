import { hostname } from 'node:os';
import type { Writable } from 'node:stream';

import type { InstanceIdentity } from '../../identity/instance';
import type { Meters } from '../meters';
import type { MetricsSettings } from '../schema';
import { CarbonSink } from './carbon';
import { FileSink } from './file';
import { graphiteLines } from './graphite';
import type { LineSink, ReporterLogger } from './line-sink';
import { PushReporter } from './push-reporter';
import { StreamSink } from './stream';

export interface MetricsReportersContext {
  serviceName: string;
  deployName: string;
  logger: ReporterLogger;
  /** Default `os.hostname()`. */
  hostname?: string;
  /** Tagged on every line when given (the metrics resource gives the process's). */
  instance?: InstanceIdentity;
  /** Where the stdout handler writes; default `process.stdout`. */
  stdout?: Writable;
}

/**
 * The reporters `system.resources.metrics` turns on. Prometheus is pull: it only says whether
 * `GET /metrics` should answer. The others push the same lines every `collect_frequency` seconds.
 */
export class MetricsReporters {
  readonly prometheusEnabled: boolean;
  /** Undefined when no push handler is enabled. */
  readonly push: PushReporter | undefined;
  readonly carbon: CarbonSink | undefined;

  constructor(meters: Meters, settings: MetricsSettings, context: MetricsReportersContext) {
    const { handlers } = settings;
    this.prometheusEnabled = handlers.prometheus.enabled;
    const sinks: LineSink[] = [];
    if (handlers.carbon.enabled) {
      const dropped = meters.counter('metrics_carbon_dropped_lines', {
        help: 'Carbon lines dropped because the buffer was full while carbon was unreachable.',
      });
      this.carbon = new CarbonSink({
        host: handlers.carbon.host,
        port: handlers.carbon.port,
        maxBufferedLines: handlers.carbon.max_buffered_lines,
        logger: context.logger,
        onDrop: (lines) => dropped.inc(lines),
      });
      sinks.push(this.carbon);
    }
    if (handlers.file.enabled) sinks.push(new FileSink(handlers.file.path));
    if (handlers.stdout.enabled) sinks.push(new StreamSink(context.stdout));
    const identity = {
      deployName: context.deployName,
      serviceName: context.serviceName,
      hostname: context.hostname ?? hostname(),
      instance: context.instance,
    };
    this.push =
      sinks.length === 0
        ? undefined
        : new PushReporter({
            collect: () => {
              meters.startProcessMetrics();
              return graphiteLines(meters, identity);
            },
            sinks,
            periodSeconds: settings.collect_frequency,
            logger: context.logger,
          });
  }

  start(): Promise<void> {
    return this.push?.start() ?? Promise.resolve();
  }

  stop(): Promise<void> {
    return this.push?.stop() ?? Promise.resolve();
  }
}
