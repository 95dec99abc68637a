import type { LogRecord } from '../../../lib/logging';
import { toLogstashEvent } from '../../../lib/logging/sinks/logstash-event';

describe('toLogstashEvent', () => {
  const record: LogRecord = {
    name: 'billing_api',
    hostname: 'node-1',
    pid: 42,
    level: 40,
    msg: 'slow query',
    time: '2026-11-26T10:00:00.000Z',
    v: 0,
    service_name: 'billing_api',
    deploy_name: 'staging',
    instance_id: 'a5c1e0d2-7a1b-4a40-9a56-2f1f0e3c9b11',
    version: '1.4.0',
    levelname: 'WARNING',
    logger: 'billing_api.postgres',
    resource: 'postgres',
    tags: { table: 'invoices' },
    extra: { ms: 950 },
  };

  it('maps a bunyan record to a JSON event version 1 and keeps every other field', () => {
    expect(toLogstashEvent(record, 'node-1.example.org')).toEqual({
      '@timestamp': '2026-11-26T10:00:00.000Z',
      '@version': '1',
      message: 'slow query',
      host: 'node-1.example.org',
      level: 'WARNING',
      logger_name: 'billing_api.postgres',
      pid: 42,
      service_name: 'billing_api',
      deploy_name: 'staging',
      instance_id: 'a5c1e0d2-7a1b-4a40-9a56-2f1f0e3c9b11',
      version: '1.4.0',
      levelname: 'WARNING',
      logger: 'billing_api.postgres',
      resource: 'postgres',
      tags: { table: 'invoices' },
      extra: { ms: 950 },
    });
  });
});
