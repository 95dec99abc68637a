import type { Profiler } from 'node:inspector';
import type { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from '../../container/injection';
import { resource } from '../../container/decorators';
import { LOGGER, SERVICE, SETTINGS } from '../../container/tokens';
import { messageOf } from '../../util';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import type { SettingsView } from '../../settings/types';
import { ReportServerResource, type DebugReply } from '../report-server';
import { functionTable, topFunctions } from './cpu-profile';
import { BoundedFiles, directorySetting, outputDirectory } from './files';
import { profilerSchema, type ProfilerSettings } from './settings';

const MAX_ON_DEMAND_S = 300;

/**
 * CPU profiling through `node:inspector` in sampling mode, always on while enabled: every
 * `interval_s` the window's top functions by self time go to the log and the whole window to a
 * `.cpuprofile` file (Chrome DevTools opens it). `GET /debug/profile?seconds=N` on the report
 * server answers a profile of the next N seconds, from a second session beside the periodic one.
 */
@resource({ settings: profilerSchema, name: 'profiler' })
export class ProfilerResource {
  private session?: Session;
  private timer?: NodeJS.Timeout;
  private files?: BoundedFiles;
  private removeRoute?: () => void;
  private window?: Promise<void>;
  private readonly onDemandProfiles = new Set<AbortController>();

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<ProfilerSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
    private readonly reportServer: ReportServerResource,
  ) {}

  /** Where the `.cpuprofile` files go. */
  get directory(): string {
    return outputDirectory(this.settings.value().directory, this.service.name, this.service.env);
  }

  /** The route is added (or refused: see `addDebugRoute`) before any server listens. */
  preStart(): void {
    if (!this.settings.value().enabled) return;
    this.removeRoute = this.reportServer.addDebugRoute('/debug/profile', (query, closed) =>
      this.onDemand(query, closed),
    );
  }

  async start(): Promise<void> {
    const { enabled, interval_s, max_files, directory } = this.settings.value();
    if (!enabled) return;
    this.files = new BoundedFiles(
      this.directory,
      `${this.service.name}-cpu`,
      '.cpuprofile',
      max_files,
      directorySetting(this.settings.path, directory),
    );
    // Refused now, not at the first report, when the folder is unsafe.
    await this.files.next();
    this.session = await this.startSession();
    this.timer = setInterval(() => {
      this.window ??= this.closeWindow().finally(() => (this.window = undefined));
    }, interval_s * 1000);
    this.timer.unref();
    this.log.info(
      { interval_s, directory: this.directory },
      `cpu profiler on, a report every ${interval_s} s`,
    );
  }

  async stop(): Promise<void> {
    this.removeRoute?.();
    this.removeRoute = undefined;
    for (const profile of this.onDemandProfiles) profile.abort();
    clearInterval(this.timer);
    await this.window;
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    await session.post('Profiler.stop').catch(() => undefined);
    session.disconnect();
  }

  /** A profile of the next `seconds`, in its own inspector session; `signal` stops it early (and rejects). */
  async profile(seconds: number, signal?: AbortSignal): Promise<Profiler.Profile> {
    const session = await this.startSession();
    try {
      await sleep(seconds * 1000, undefined, { signal });
      return (await session.post('Profiler.stop')).profile;
    } finally {
      session.disconnect();
    }
  }

  private async startSession(): Promise<Session> {
    // Required here: node:inspector costs tens of ms to load, a price only an enabled profiler pays
    // (`require`, not `import()`: jest's vm refuses a dynamic import inside Keel's bundle).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Session } = require('node:inspector/promises') as typeof import('node:inspector/promises');
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', {
      interval: this.settings.value().sampling_interval_us,
    });
    await session.post('Profiler.start');
    return session;
  }

  /** Ends the current window and starts the next at once, then reports the one that ended. */
  private async closeWindow(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    try {
      const { profile } = await session.post('Profiler.stop');
      await session.post('Profiler.start');
      const rows = topFunctions(profile, this.settings.value().top);
      const { file } = await this.files!.write(JSON.stringify(profile));
      const seconds = Math.round((profile.endTime - profile.startTime) / 1e5) / 10;
      this.log.info(
        { top: rows, window_s: seconds, file },
        `cpu profile of the last ${seconds} s, top ${rows.length} by self time (${file}):\n${functionTable(rows)}`,
      );
    } catch (error) {
      this.log.warn({ err: error }, `cpu profile report failed: ${messageOf(error)}`);
    }
  }

  /** At most `max_on_demand` at once; each stops when its request's connection closes, or the profiler stops. */
  private async onDemand(query: URLSearchParams, closed: AbortSignal): Promise<DebugReply> {
    const seconds = Number(query.get('seconds') ?? '10');
    if (!(seconds > 0 && seconds <= MAX_ON_DEMAND_S)) {
      return { status: 400, body: { error: `seconds must be a number in (0, ${MAX_ON_DEMAND_S}]` } };
    }
    const { max_on_demand } = this.settings.value();
    if (this.onDemandProfiles.size >= max_on_demand) {
      return {
        status: 429,
        body: {
          error: `${this.onDemandProfiles.size} profile(s) already running, the most at once (max_on_demand)`,
        },
        headers: { 'Retry-After': String(Math.ceil(seconds)) },
      };
    }
    const own = new AbortController();
    const stop = () => own.abort();
    closed.addEventListener('abort', stop, { once: true });
    this.onDemandProfiles.add(own);
    try {
      const profile = await this.profile(seconds, own.signal);
      return { status: 200, body: JSON.stringify(profile), type: 'application/json' };
    } finally {
      this.onDemandProfiles.delete(own);
      closed.removeEventListener('abort', stop);
    }
  }

  /** How many `/debug/profile` requests are profiling now. */
  get onDemandCount(): number {
    return this.onDemandProfiles.size;
  }
}
