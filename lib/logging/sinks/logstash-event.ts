import type { LogRecord } from '../record';

/** Logstash JSON event format version 1; every other record field (extra, tags, err, ...) is kept as is. */
export function toLogstashEvent(record: LogRecord, host: string): Record<string, unknown> {
  const { time, msg, v: _v, level: _level, hostname: _hostname, name: _name, ...fields } = record;
  return {
    '@timestamp': time,
    '@version': '1',
    message: msg,
    host,
    level: record.levelname,
    logger_name: record.logger,
    ...fields,
  };
}
