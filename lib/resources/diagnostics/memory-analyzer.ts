import type { Session } from 'node:inspector/promises';
import { inject } from '../../container/injection';
import { resource } from '../../container/decorators';
import { LOGGER, METRICS, SERVICE, SETTINGS } from '../../container/tokens';
import { messageOf } from '../../util';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import type { Gauge, MeterFactory } from '../../metrics';
import type { SettingsView } from '../../settings/types';
import { ReportServerResource, type DebugReply } from '../report-server';
import { DiagnosticsError } from './errors';
import { BoundedFiles, directorySetting, outputDirectory } from './files';
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
/** A heap snapshot written: its path and size. */
export interface HeapSnapshotFile {
  file: string;
  bytes: number;
}

@resource({ settings: memoryAnalyzerSchema, name: 'memory_analyzer' })
export class MemoryAnalyzerResource {
  private session?: Session;
  private v8?: typeof import('node:v8');
  private timer?: NodeJS.Timeout;
  private previous: SiteBytes = new Map();
  private files?: BoundedFiles;
  private removeRoute?: () => void;
  private looking?: Promise<SiteGrowth[]>;
  private snapshotting?: Promise<HeapSnapshotFile>;
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
    return outputDirectory(this.settings.value().directory, this.service.name, this.service.env);
  }

  /** The route is added (or refused: see `addDebugRoute`) before any server listens. */
  preStart(): void {
    if (!this.settings.value().enabled) return;
    this.removeRoute = this.reportServer.addDebugRoute('/debug/heap-snapshot', () => this.snapshot());
  }

  async start(): Promise<void> {
    const { enabled, interval_s, max_files, sampling_interval_bytes, directory } = this.settings.value();
    if (!enabled) return;
    const files = new BoundedFiles(
      this.directory,
      `${this.service.name}-heap`,
      '.heapsnapshot',
      max_files,
      directorySetting(this.settings.path, directory),
    );
    // Refused now, not at the first snapshot, when the folder is unsafe.
    await files.next();
    this.files = files;
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
    this.log.info(
      { interval_s, directory: this.directory },
      `memory analyzer on, a report every ${interval_s} s`,
    );
  }

  async stop(): Promise<void> {
    this.removeRoute?.();
    this.removeRoute = undefined;
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

  /**
   * Writes a `.heapsnapshot` into `directory` (0600), blocking the event loop while V8 writes it:
   * seconds for a large heap. One at a time: while one is written, another call rejects with
   * `DiagnosticsError` `DIAGNOSTICS_SNAPSHOT_IN_PROGRESS` (429 on `/debug/heap-snapshot`), so a flood of
   * requests cannot stall the service once for each.
   */
  writeHeapSnapshot(): Promise<HeapSnapshotFile> {
    if (this.files === undefined || this.v8 === undefined)
      return Promise.reject(
        new DiagnosticsError('DIAGNOSTICS_NOT_STARTED', 'the memory analyzer is not running'),
      );
    if (this.snapshotting !== undefined)
      return Promise.reject(
        new DiagnosticsError(
          'DIAGNOSTICS_SNAPSHOT_IN_PROGRESS',
          'a heap snapshot is being written; ask again once it is done',
        ),
      );
    const files = this.files;
    const v8 = this.v8;
    this.snapshotting = (async () => {
      const file = v8.writeHeapSnapshot(await files.next());
      await files.private(file);
      const bytes = await files.size(file);
      await files.prune();
      this.log.info({ file, bytes }, `heap snapshot written to ${file} (${bytes} bytes)`);
      return { file, bytes };
    })().finally(() => (this.snapshotting = undefined));
    return this.snapshotting;
  }

  private async snapshot(): Promise<DebugReply> {
    try {
      return { status: 200, body: await this.writeHeapSnapshot() };
    } catch (error) {
      if (!(error instanceof DiagnosticsError)) throw error;
      const busy = error.code === 'DIAGNOSTICS_SNAPSHOT_IN_PROGRESS';
      return {
        status: busy ? 429 : 503,
        body: { error: error.message },
        ...(busy && { headers: { 'Retry-After': '5' } }),
      };
    }
  }
}
