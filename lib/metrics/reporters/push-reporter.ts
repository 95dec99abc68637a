import type { LineSink, ReporterLogger } from './line-sink';
import { messageOf } from '../../util';

export interface PushReporterOptions {
  /** Produces one period's lines. */
  collect: () => Promise<string[]>;
  sinks: readonly LineSink[];
  periodSeconds: number;
  logger: ReporterLogger;
}

/**
 * Every `periodSeconds`, collects the lines once and hands them to every sink. A sink that fails
 * is logged once per run of failures (not once per period) and never stops the others or the service.
 */
export class PushReporter {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly failing = new Set<LineSink>();

  constructor(private readonly options: PushReporterOptions) {}

  async start(): Promise<void> {
    await Promise.all(this.options.sinks.map((sink) => sink.open()));
    this.timer = setInterval(() => void this.collectNow(), this.options.periodSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer, pushes one last period so nothing since the previous one is lost, closes the sinks. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.collectNow();
    await Promise.all(this.options.sinks.map((sink) => sink.close()));
  }

  /** One period now; joins the period in progress rather than overlapping it. */
  collectNow(): Promise<void> {
    this.inFlight ??= this.push().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async push(): Promise<void> {
    let lines: string[];
    try {
      lines = await this.options.collect();
    } catch (error) {
      this.options.logger.warn(`metrics: collecting for the push reporters failed: ${messageOf(error)}`);
      return;
    }
    await Promise.all(this.options.sinks.map((sink) => this.deliver(sink, lines)));
  }

  private async deliver(sink: LineSink, lines: readonly string[]): Promise<void> {
    try {
      await sink.write(lines);
      this.failing.delete(sink);
    } catch (error) {
      if (this.failing.has(sink)) return;
      this.failing.add(sink);
      this.options.logger.warn(`metrics: writing to ${sink.description} failed: ${messageOf(error)}`);
    }
  }
}
