import { bunyan } from './bunyan';
import { LoggingSettingsError } from './errors';

export const LOG_PROFILES = ['DEVELOP', 'TESTING', 'PRODUCTION'] as const;
export type LogProfile = (typeof LOG_PROFILES)[number];

export const PROFILE_KEY = 'system.logging.profile';

export const PROFILE_LEVELS: Readonly<Record<LogProfile, number>> = {
  DEVELOP: bunyan.DEBUG,
  TESTING: bunyan.DEBUG,
  PRODUCTION: bunyan.INFO,
};

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LevelName = (typeof LOG_LEVELS)[number];

export function isLogProfile(value: unknown): value is LogProfile {
  return (LOG_PROFILES as readonly unknown[]).includes(value);
}

export function unknownProfileMessage(value: unknown): string {
  return `unknown logging profile ${JSON.stringify(value)}; allowed values: ${LOG_PROFILES.join(', ')}`;
}

/** For a profile changed at run time, which convict does not see. */
export function assertLogProfile(value: unknown, key: string = PROFILE_KEY): asserts value is LogProfile {
  if (!isLogProfile(value)) throw new LoggingSettingsError(key, unknownProfileMessage(value));
}

/** `levelname` as Python's logging spells it, which is what Tamarco's dashboards filter on. */
export function levelNameOf(level: number): string {
  return LEVEL_NAMES.get(level) ?? `LEVEL${level}`;
}

const LEVEL_NAMES: ReadonlyMap<number, string> = new Map([
  [bunyan.TRACE, 'TRACE'],
  [bunyan.DEBUG, 'DEBUG'],
  [bunyan.INFO, 'INFO'],
  [bunyan.WARN, 'WARNING'],
  [bunyan.ERROR, 'ERROR'],
  [bunyan.FATAL, 'CRITICAL'],
]);
