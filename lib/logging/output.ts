import { logMethod, type Log } from '../lifecycle/log';
import type { Meters } from '../metrics';
import type { SettingsProvider } from '../settings';
import type { SettingsScope } from '../settings/types';
import { applyLoggingSettings } from './configure';
import type { LevelName } from './levels';
import { createProvisionalLogging, type Logging } from './logging';
import { loggingSchema, type LoggingSettings } from './schema';

export const LOGGING_SETTINGS_PATH = 'system.logging';
export const loggingScope: SettingsScope = {
  path: LOGGING_SETTINGS_PATH,
  owner: 'keel',
  schema: loggingSchema,
};

/** Where a service's records go: its own logger, each resource's child, and what to flush at the end. */
export interface LogOutput {
  root: Log;
  forResource(name: string): Log;
  /** Settings read, not yet validated: the provisional stream takes the format they ask for. */
  followRead(tree: Readonly<Record<string, unknown>>): void;
  /** Once settings are loaded: configures streams and follows profile changes. */
  configure(settings: SettingsProvider, deployName: string): Promise<void>;
  /** Every record written while `fields` returns fields carries them too (the trace and span ids). */
  correlate(fields: () => Record<string, unknown> | undefined): void;
  /** Counts the records the streams dropped, as `<service>_logging_dropped_records{stream}`. */
  instrument(meters: Meters): void;
  /** Delivers every record logged so far; called last when the service stops. */
  close(): Promise<void>;
}

/** The service's own `Logging`: provisional stderr first, then the streams of `system.logging`. */
export function loggingOutput(logging: Logging, owned: boolean): LogOutput {
  return {
    root: logging.logger,
    forResource: (name) => logging.forResource(name),
    followRead: (tree) => {
      const system = tree.system as { logging?: Record<string, unknown> } | undefined;
      logging.followReadSettings(system?.logging);
    },
    configure: async (settings, deployName) => {
      const validated = settings.view<LoggingSettings>(LOGGING_SETTINGS_PATH).value();
      await applyLoggingSettings(logging, validated, { deployName });
      settings.watch(`${LOGGING_SETTINGS_PATH}.profile`, (profile) => logging.setProfile(profile));
      settings.watch(`${LOGGING_SETTINGS_PATH}.level`, (level) => logging.setLevel(level as LevelName | ''));
    },
    correlate: (fields) => logging.correlate(fields),
    instrument: (meters) =>
      meters.addScrapeGauge(
        'logging_dropped_records',
        'Log records a stream gave up on (receiver down, queue full), since start',
        () => logging.droppedRecords(),
        'stream',
      ),
    // A caller that brought its own Logging (run) closes it itself, after its last record.
    close: () => (owned ? logging.close() : logging.flush()),
  };
}

/**
 * A `Log` given in code (tests): records go there as they are, nothing to configure or flush; with
 * `correlate`, each call's fields also get the trace ids, as the configured streams' records do.
 */
export function fixedOutput(log: Log): LogOutput {
  const extra: { fields?: () => Record<string, unknown> | undefined } = {};
  const root = correlating(log, extra);
  return {
    root,
    forResource: (name) => root.child({ resource: name }),
    followRead: () => undefined,
    configure: async () => undefined,
    correlate: (fields) => {
      extra.fields = fields;
    },
    instrument: () => undefined,
    close: async () => undefined,
  };
}

function correlating(log: Log, extra: { fields?: () => Record<string, unknown> | undefined }): Log {
  const call = (level: 'debug' | 'info' | 'warn' | 'error') =>
    logMethod((fields, message) => {
      const added = extra.fields?.();
      log[level](added === undefined ? fields : { ...fields, ...added }, message);
    });
  return {
    debug: call('debug'),
    info: call('info'),
    warn: call('warn'),
    error: call('error'),
    child: (fields) => correlating(log.child(fields), extra),
  };
}

/** `level`: the threshold the code's settings give, obeyed from the first record (the settings load's). */
export function provisionalOutput(serviceName: string, level?: LevelName): LogOutput {
  return loggingOutput(createProvisionalLogging({ serviceName, level }), true);
}
