export { applyLoggingSettings, configureLogging, type ConfigureLoggingOptions } from './configure';
export { LoggingSettingsError } from './errors';
export { LOG_PROFILES, PROFILE_LEVELS, type LevelName, type LogProfile } from './levels';
export { LOG_FORMATS, type LogFormat } from './pretty';
export { Logger, type LogArguments, type LogFields } from './logger';
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  Logging,
  createProvisionalLogging,
  type ProvisionalLoggingOptions,
} from './logging';
export {
  loadLoggingSettings,
  loggingSchema,
  type LoggingSettings,
  type LoggingSettingsInput,
} from './schema';
export type { LogRecord } from './record';
export type { LogSink, SinkContext } from './sinks/types';
