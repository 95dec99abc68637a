import type { Session } from 'node:inspector/promises';
import { inject } from '../../container/inversify';
import { resource } from '../../container/decorators';
import { LOGGER, METRICS, SERVICE, SETTINGS } from '../../container/tokens';
import { messageOf } from '../../lifecycle/errors';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import type { Gauge, MeterFactory } from '../../metrics';
import type { SettingsView } from '../../settings/types';
import { ReportServerResource, type DebugReply } from '../report-server';
import { BoundedFiles, outputDirectory } from './files';
import { bytesBySite, growthTable, topGrowth, type SiteBytes, type SiteGrowth } from './heap-growth';
import { memoryAnalyzerSchema, type MemoryAnalyzerSettings } from './settings';

/**
 * What grew in the heap, by allocation site: V8's sampling heap profiler runs while enabled (a
 * sample every `sampling_interval_bytes` allocated, on average), and every `interval_s` the sites
 * whose sampled objects still alive grew most since the previous look go to the log. No GC is
 * forced (V8's collectGarbage costs hundreds of ms a second under load): garbage an old-space
 * collection has not reached yet still counts, which a leak outgrows. Heap spaces are gauges. `GET /debug/heap-snapshot` writes
 * a `.heapsnapshot` into `directory`.
 */
@resource({ settings: memoryAnalyzerSchema, name: 'memory_analyzer' })
export class MemoryAnalyzerResource {
  private session?: Session;
  private v8?: typeof import('node:v8');
  private timer?: NodeJS.Timeout;
  private previous: SiteBytes = new Map();
  private files?: BoundedFiles;
  private removeRoute?: () => void;
  private looking?: Promise<SiteGrowth[]>;
  private readonly spaceUsed: Gauge;
  private readonly spaceSize: Gauge;
  private readonly spaceAvailable: Gauge;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<MemoryAnalyzerSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meters: MeterFactory,
    private readonly reportServer: ReportServerResource,
  ) {
    const gauge = (name: string, help: string) => meters.gauge(name, { help, labelNames: ['space'] });
    this.spaceUsed = gauge('heap_space_used_bytes', 'Bytes used in each V8 heap space, at the last look');
    this.spaceSize = gauge(
      'heap_space_size_bytes',
      'Bytes reserved for each V8 heap space, at the last look',
    );
    this.spaceAvailable = gauge(
      'heap_space_available_bytes',
      'Bytes still free in each V8 heap space, at the last look',
    );
  }

  get directory(): string {
    return outputDirectory(this.settings.value().directory, this.service.name);
  }

  async start(): Promise<void> {
    const { enabled, interval_s, max_files, sampling_interval_bytes } = this.settings.value();
    if (!enabled) return;
    this.files = new BoundedFiles(this.directory, `${this.service.name}-heap`, '.heapsnapshot', max_files);
    // Required here: node:inspector and node:v8 cost tens of ms to load, a price only an enabled analyzer
    // pays (`require`, not `import()`: jest's vm refuses a dynamic import inside Keel's bundle).
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Session } = require('node:inspector/promises') as typeof import('node:inspector/promises');
    const v8 = require('node:v8') as typeof import('node:v8');
    /* eslint-enable @typescript-eslint/no-require-imports */
    this.v8 = v8;
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: sampling_interval_bytes });
    this.session = session;
    this.previous = new Map();
    this.updateGauges();
    this.timer = setInterval(() => void this.look(), interval_s * 1000);
    this.timer.unref();
    this.removeRoute = this.reportServer.addDebugRoute('/debug/heap-snapshot', () => this.snapshot());
    this.log.info(
      { interval_s, directory: this.directory },
      `memory analyzer on, a report every ${interval_s} s`,
    );
  }

  async stop(): Promise<void> {
    this.removeRoute?.();
    clearInterval(this.timer);
    await this.looking;
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    await session.post('HeapProfiler.stopSampling').catch(() => undefined);
    session.disconnect();
  }

  /** Logs and returns the sites that grew most since the previous look. */
  look(): Promise<SiteGrowth[]> {
    this.looking ??= this.runLook().finally(() => (this.looking = undefined));
    return this.looking;
  }

  private async runLook(): Promise<SiteGrowth[]> {
    const session = this.session;
    if (session === undefined) return [];
    try {
      const { profile } = await session.post('HeapProfiler.getSamplingProfile');
      const now = bytesBySite(profile);
      const rows = topGrowth(this.previous, now, this.settings.value().top);
      this.previous = now;
      this.updateGauges();
      this.log.info(
        { growth: rows },
        `heap growth since the last look, top ${rows.length} allocation sites:\n${growthTable(rows)}`,
      );
      return rows;
    } catch (error) {
      this.log.warn({ err: error }, `memory analyzer look failed: ${messageOf(error)}`);
      return [];
    }
  }

  private updateGauges(): void {
    for (const space of this.v8!.getHeapSpaceStatistics()) {
      const labels = { space: space.space_name };
      this.spaceUsed.labels(labels).set(space.space_used_size);
      this.spaceSize.labels(labels).set(space.space_size);
      this.spaceAvailable.labels(labels).set(space.space_available_size);
    }
  }

  /** Blocks the event loop while V8 writes it: seconds for a large heap. */
  private async snapshot(): Promise<DebugReply> {
    const files = this.files!;
    const file = this.v8!.writeHeapSnapshot(await files.next());
    const bytes = await files.size(file);
    await files.prune();
    this.log.info({ file, bytes }, `heap snapshot written to ${file} (${bytes} bytes)`);
    return { status: 200, body: { file, bytes } };
  }
}
