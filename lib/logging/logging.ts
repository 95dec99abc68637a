import { bunyan } from './bunyan';
import { RecordDispatcher, type LoggingIdentity } from './dispatcher';
import { DropCounter } from './drops';
import { errorFields } from './error-fields';
import { PROFILE_LEVELS, assertLogProfile, isLogProfile, type LevelName, type LogProfile } from './levels';
import { chooseFormat, LOG_FORMATS, PrettySink, type LogFormat } from './pretty';
import { Logger, type LevelGate } from './logger';
import { StreamSink } from './sinks/stream';
import type { LogSink, SinkContext } from './sinks/types';

export interface ProvisionalLoggingOptions {
  serviceName: string;
  deployName?: string;
  /** The provisional stream, and where Keel's own warnings about log streams go; process.stderr by default. */
  stderr?: NodeJS.WritableStream;
  /** A threshold from the start (the inline `system.logging.level`); else info until a profile is set. */
  level?: LevelName;
}

/** How long `close()` keeps retrying remote receivers before it counts their records as dropped. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

/**
 * The logging of one service. It starts provisional (JSON lines on stderr) so settings loading can
 * log; `configureLogging` then swaps in the configured streams under the same loggers.
 */
export class Logging {
  /** The service's own logger; `logger` is the service name. */
  readonly logger: Logger;
  private readonly identity: LoggingIdentity;
  private readonly gate: LevelGate;
  private readonly drops = new DropCounter();
  private readonly stderr: StreamSink;
  private readonly stderrStream: NodeJS.WritableStream;
  /** Where records go until the configured streams replace it: stderr, in JSON lines or readable ones. */
  private provisional: LogSink;
  private readonly dispatcher: RecordDispatcher;
  private diagnosticsLogger?: Logger;
  private currentProfile: LogProfile | undefined;
  /** `system.logging.level`: over the profile's level, and over Keel's own warnings about streams. */
  private threshold: number | undefined;
  private readonly diagnosticsGate: LevelGate = { level: bunyan.TRACE };
  /** Sinks being flushed and closed after a `replaceSinks`: a flush waits for them too. */
  private retiring: Promise<void> = Promise.resolve();

  constructor(options: ProvisionalLoggingOptions) {
    this.identity = { serviceName: options.serviceName, deployName: options.deployName ?? '' };
    this.gate = { level: bunyan.resolveLevel(options.level ?? 'info') };
    if (options.level !== undefined) this.setLevel(options.level);
    this.stderr = new StreamSink('stderr', options.stderr ?? process.stderr, this.drops, {
      onDropsEnded: (dropped) =>
        this.diagnostics.warn({ stream: 'stderr', dropped }, droppedWhileUnread('stderr', dropped)),
    });
    this.stderrStream = options.stderr ?? process.stderr;
    this.provisional = this.stderr;
    this.dispatcher = new RecordDispatcher(this.identity, [this.stderr], (sink, error) =>
      this.diagnostics.error(
        { err: error, stream: sink.name },
        'log stream %s failed to take a record',
        sink.name,
      ),
    );
    this.logger = createLogger(this.gate, this.identity, this.identity.serviceName, this.dispatcher);
  }

  /**
   * Warnings about the streams bypass them: a failing stream must not be asked to carry its own
   * failure. Made on the first warning: most services never have one, and a bunyan logger costs.
   */
  private get diagnostics(): Logger {
    this.diagnosticsLogger ??= createLogger(
      this.diagnosticsGate,
      this.identity,
      'keel.logging',
      new RecordDispatcher(this.identity, [this.stderr], () => undefined),
    );
    return this.diagnosticsLogger;
  }

  /** A named logger, as Tamarco's extra loggers: its records carry `logger: <name>`. */
  getLogger(name: string): Logger {
    return this.logger.child({ logger: name });
  }

  /** The logger `LOGGER` gives the resource registered under `name`. */
  forResource(name: string): Logger {
    return this.logger.child({ logger: `${this.identity.serviceName}.${name}`, resource: name });
  }

  get profile(): LogProfile | undefined {
    return this.currentProfile;
  }

  /** Bunyan's numeric level every logger currently obeys. */
  get level(): number {
    return this.gate.level;
  }

  /** Takes effect at once for every logger handed out; meant for a watch on `system.logging.profile`. */
  setProfile(profile: unknown): void {
    assertLogProfile(profile);
    this.currentProfile = profile;
    this.gate.level = this.threshold ?? PROFILE_LEVELS[profile];
  }

  /** `system.logging.max_record_chars`: a longer record is cut before any stream sees it. */
  setMaxRecordChars(chars: number): void {
    this.dispatcher.maxRecordChars = chars;
  }

  /** A threshold over the profile's level (`''`: none, the profile decides); for `system.logging.level`. */
  setLevel(level: LevelName | ''): void {
    this.threshold = level === '' ? undefined : bunyan.resolveLevel(level);
    this.diagnosticsGate.level = this.threshold ?? bunyan.TRACE;
    this.gate.level =
      this.threshold ?? (this.currentProfile ? PROFILE_LEVELS[this.currentProfile] : this.gate.level);
  }

  /** Every record logged from now on also carries what `fields` returns where it is written (trace ids). */
  correlate(fields: () => Record<string, unknown> | undefined): void {
    this.gate.correlate = fields;
  }

  setDeployName(deployName: string): void {
    this.identity.deployName = deployName;
  }

  /**
   * While still provisional: readable lines on stderr when the `system.logging` values read so far
   * (not yet validated) ask for them as they would on stdout, so that the settings load's own lines
   * and a boot error (a bad setting) are readable on a developer's terminal; and only warnings and
   * errors when they turn stdout off.
   */
  followReadSettings(raw: { profile?: unknown; format?: unknown; stdout?: unknown } | undefined): void {
    // `stdout: false` asks for a quiet terminal: the load's progress lines are left out, its
    // warnings and a boot error are not. The configured profile sets the level again.
    if (raw?.stdout === false && this.threshold === undefined)
      this.gate.level = Math.max(this.gate.level, bunyan.WARN);
    const profile = raw?.profile;
    const format = raw?.format ?? 'auto';
    if (!isLogProfile(profile) || !(LOG_FORMATS as readonly unknown[]).includes(format)) return;
    const isTTY = (this.stderrStream as { isTTY?: boolean }).isTTY === true;
    if (chooseFormat(format as LogFormat, profile, isTTY) === 'json') return;
    const current = this.dispatcher.currentSinks();
    if (current.length !== 1 || current[0] !== this.stderr) return;
    this.provisional = new PrettySink(this.stderr, isTTY && process.env.NO_COLOR === undefined);
    this.dispatcher.replaceSinks([this.provisional]);
  }

  /** Records each stream gave up on since start, by stream name (`logstash_http`, `logstash_udp`, `file`, ...). */
  droppedRecords(): Record<string, number> {
    return this.drops.snapshot();
  }

  /** Names of the streams records go to now. */
  streams(): string[] {
    return this.dispatcher.currentSinks().map((sink) => sink.name);
  }

  get sinkContext(): SinkContext {
    return {
      drops: this.drops,
      warn: (message, fields) => this.diagnostics.warn(fields ?? {}, message),
      notice: (message, fields) => this.logger.warn(fields ?? {}, message),
    };
  }

  /**
   * Routes records to `sinks` from now on; the previous ones are flushed and closed, and the next
   * `flush()` or `close()` waits for that too, so a caller need not.
   */
  async replaceSinks(sinks: readonly LogSink[], timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    const previous = this.dispatcher.replaceSinks(sinks);
    const deadline = Date.now() + timeoutMs;
    const closing = Promise.all(
      previous.filter((sink) => !sinks.includes(sink)).map((sink) => sink.close(deadline)),
    ).then(() => undefined);
    const before = this.retiring;
    // What a close fails with is the replaceSinks caller's to hear; a later flush only waits.
    this.retiring = Promise.all([before, closing.catch(() => undefined)]).then(() => undefined);
    await closing;
  }

  /** Resolves when every record logged before the call is written or sent (or counted as dropped). */
  async flush(): Promise<void> {
    await this.retiring;
    const others = this.dispatcher.currentSinks().filter((sink) => sink !== this.stderr);
    await Promise.all(others.map((sink) => sink.flush()));
    // Last: flushing the other streams may warn on stderr (a receiver back, records dropped meanwhile).
    await this.stderr.flush();
  }

  /**
   * Delivers everything logged so far, then releases files and sockets. Records logged afterwards
   * still reach stderr.
   */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    await this.retiring;
    await this.replaceSinks([this.provisional], timeoutMs);
    await this.stderr.flush();
  }
}

/** The line a stream writes once it takes records again after dropping some. */
export function droppedWhileUnread(stream: string, dropped: number): string {
  return `${stream} was not read fast enough: ${dropped} log record(s) dropped while its queue was full`;
}

/** Before settings load: records go to stderr, at info unless told otherwise. */
export function createProvisionalLogging(options: ProvisionalLoggingOptions): Logging {
  return new Logging(options);
}

/** A Logger whose records, built by bunyan or by the Logger itself, all go to `dispatcher`. */
function createLogger(
  gate: LevelGate,
  identity: LoggingIdentity,
  loggerName: string,
  dispatcher: RecordDispatcher,
): Logger {
  const target = bunyan.createLogger({
    name: identity.serviceName,
    logger: loggerName,
    // Levels are enforced by the Logger gate; bunyan passes everything it is given.
    level: bunyan.TRACE,
    streams: [{ type: 'raw', stream: dispatcher, level: bunyan.TRACE }],
    serializers: { ...bunyan.stdSerializers, err: errorFields, error: errorFields },
  });
  return new Logger(gate, target, dispatcher);
}
