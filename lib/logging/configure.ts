import os from 'node:os';
import { LoggingSettingsError } from './errors';
import { fullyQualifiedHostName } from './fqdn';
import { droppedWhileUnread, type Logging } from './logging';
import { chooseFormat, PrettySink } from './pretty';
import { loadLoggingSettings, type LoggingSettings, type LoggingSettingsInput } from './schema';
import { LogstashHttpSink } from './sinks/logstash-http';
import { LogstashUdpSink } from './sinks/logstash-udp';
import { RedisListSink } from './sinks/redis-list';
import { RotatingFileSink, parsePeriod } from './sinks/rotating-file';
import { STALLED_STREAM_MS, StreamSink } from './sinks/stream';
import type { LogSink, SinkContext } from './sinks/types';

export interface ConfigureLoggingOptions {
  /** `system.deploy_name`. */
  deployName?: string;
  /** Where the stdout stream writes; process.stdout by default. */
  stdout?: NodeJS.WritableStream;
}

/**
 * Applies the `system.logging` subtree: validates it, sets the profile and replaces the provisional
 * streams. Loggers handed out before keep working and follow the new configuration.
 */
export async function configureLogging(
  logging: Logging,
  input: LoggingSettingsInput,
  options: ConfigureLoggingOptions = {},
): Promise<LoggingSettings> {
  const settings = loadLoggingSettings(input);
  await applyLoggingSettings(logging, settings, options);
  return settings;
}

/**
 * `configureLogging` for a subtree already validated against `loggingSchema` (the settings layer
 * validates `system.logging` with every other scope): it is not validated a second time.
 */
export async function applyLoggingSettings(
  logging: Logging,
  settings: LoggingSettings,
  options: ConfigureLoggingOptions = {},
): Promise<void> {
  if (options.deployName !== undefined) logging.setDeployName(options.deployName);
  const context = logging.sinkContext;
  const sinks = await createSinks(settings, context, options.stdout ?? process.stdout);
  logging.setMaxRecordChars(settings.max_record_chars);
  logging.setLevel(settings.level);
  logging.setProfile(settings.profile);
  // The provisional stderr is flushed in the background: its last records are written within the
  // batch delay as any others, and the service's stop (a flush) waits for them.
  logging
    .replaceSinks(sinks)
    .catch((error: unknown) => context.warn(`closing the previous log streams failed: ${String(error)}`));
}

async function createSinks(
  settings: LoggingSettings,
  context: SinkContext,
  stdout: NodeJS.WritableStream,
): Promise<LogSink[]> {
  const sinks: LogSink[] = [];
  if (settings.stdout) sinks.push(stdoutSink(settings, context, stdout));
  if (settings.file_path) sinks.push(openFile(settings, settings.file_path, context));
  if (settings.logstash.enabled) {
    const { host, port, fqdn } = settings.logstash;
    const hostName = fqdn ? await fullyQualifiedHostName() : os.hostname();
    sinks.push(new LogstashUdpSink({ host, port, hostName }, context));
  }
  if (settings.http.enabled) {
    const http = settings.http;
    sinks.push(
      new LogstashHttpSink(
        {
          url: http.url,
          user: http.user,
          password: http.password,
          maxRecords: http.max_records,
          maxTimeMs: http.max_time_seconds * 1000,
          maxQueueRecords: http.max_queue_records,
          backoffMs: http.backoff_seconds * 1000,
          maxBackoffMs: http.max_backoff_seconds * 1000,
          timeoutMs: http.timeout_seconds * 1000,
          hostName: os.hostname(),
        },
        context,
      ),
    );
  }
  if (settings.redis.enabled) {
    const redis = settings.redis;
    sinks.push(
      new RedisListSink(
        {
          url: redis.url,
          password: redis.password,
          key: redis.key,
          maxRecords: redis.max_records,
          maxTimeMs: redis.max_time_seconds * 1000,
          maxQueueRecords: redis.max_queue_records,
          backoffMs: redis.backoff_seconds * 1000,
          maxBackoffMs: redis.max_backoff_seconds * 1000,
          timeoutMs: redis.timeout_seconds * 1000,
          hostName: os.hostname(),
        },
        context,
      ),
    );
  }
  return sinks;
}

function stdoutSink(settings: LoggingSettings, context: SinkContext, stdout: NodeJS.WritableStream): LogSink {
  const maxQueueBytes = settings.stdout_max_queue_bytes;
  const sink = new StreamSink('stdout', stdout, context.drops, {
    maxQueueBytes,
    onDropsEnded: (dropped) =>
      context.notice(
        `${droppedWhileUnread('stdout', dropped)} (system.logging.stdout_max_queue_bytes: ${maxQueueBytes})`,
        {
          stream: 'stdout',
          dropped,
        },
      ),
    onOversized: (chars) =>
      context.notice(
        `a log record of ${chars} characters was dropped: it is longer than system.logging.stdout_max_queue_bytes (${maxQueueBytes}) on its own; system.logging.max_record_chars (${settings.max_record_chars}) cuts records, set it below`,
        { stream: 'stdout', dropped: 1, chars },
      ),
    onStalled: (records, bytes) =>
      context.warn(
        `stdout took nothing for ${STALLED_STREAM_MS} ms: ${records} log record(s) (${bytes} bytes) it holds are counted as dropped, and the stop does not wait for them`,
        { stream: 'stdout', records, bytes },
      ),
  });
  const isTTY = (stdout as { isTTY?: boolean }).isTTY === true;
  if (chooseFormat(settings.format, settings.profile, isTTY) === 'json') return sink;
  return new PrettySink(sink, isTTY && process.env.NO_COLOR === undefined);
}

function openFile(settings: LoggingSettings, filePath: string, context: SinkContext): RotatingFileSink {
  const { max_bytes, period, count } = settings.file;
  try {
    return new RotatingFileSink(
      filePath,
      { maxBytes: max_bytes, periodMs: parsePeriod(period), count },
      context,
    );
  } catch (error) {
    throw new LoggingSettingsError(
      'system.logging.file_path',
      `cannot open ${filePath}: ${(error as Error).message}`,
    );
  }
}
