import bunyan from 'bunyan';
import { RecordDispatcher, type LoggingIdentity } from '../../../lib/logging/dispatcher';
import { Logger, type LogFields } from '../../../lib/logging/logger';
import { LineHead } from '../../../lib/logging/line';
import type { LogEntry } from '../../../lib/logging/record';
import type { LogSink } from '../../../lib/logging/sinks/types';
import { registerSecretValues } from '../../../lib/settings/redact';

/**
 * A Keel logger and the bunyan logger behind it, both writing to one dispatcher: a plain call on
 * the Keel logger takes the JSON-line path, the same call on bunyan the record path.
 */
function loggers(identity: LoggingIdentity = { serviceName: 'svc', deployName: 'eu-1' }) {
  const entries: LogEntry[] = [];
  const sink: LogSink = {
    name: 'capture',
    write: (entry) => entries.push(entry),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const dispatcher = new RecordDispatcher(identity, [sink], (_sink, error) => {
    throw error;
  });
  const target = bunyan
    .createLogger({
      name: identity.serviceName,
      logger: 'svc.http',
      level: bunyan.TRACE,
      streams: [{ type: 'raw', stream: dispatcher, level: bunyan.TRACE }],
      serializers: bunyan.stdSerializers,
    })
    .child({ resource: 'http' });
  const keel = new Logger({ level: bunyan.TRACE }, target, dispatcher);
  const lineTaken = jest.spyOn(dispatcher, 'writeLine');
  return { keel, target, entries, lineTaken };
}

/** The line without its time, which differs by the call's instant. */
function withoutTime(line: string): string {
  return JSON.stringify({ ...JSON.parse(line), time: undefined });
}

/** Logs `fields, message` through both paths; the two lines, and whether the line path wrote one. */
function bothWays(fields: LogFields, message: string, identity?: LoggingIdentity) {
  const { keel, target, entries, lineTaken } = loggers(identity);
  keel.info(fields, message);
  target.info(fields, message);
  expect(entries).toHaveLength(2);
  return {
    keel: entries[0],
    bunyan: entries[1],
    byLine: lineTaken.mock.results[0].value as boolean,
  };
}

const ACCESS_FIELDS = {
  request_id: '5f1c-2a',
  method: 'GET',
  path: '/hello',
  route: '/hello',
  status: 200,
  ms: 0.4,
  remote: '127.0.0.1',
};

describe('a plain call written as its JSON line', () => {
  it('is the line bunyan would write, field for field and in its order, the access line included', () => {
    const { keel, bunyan: reference, byLine } = bothWays(ACCESS_FIELDS, 'GET /hello 200 0.4 ms');
    expect(byLine).toBe(true);
    expect(withoutTime(keel.line)).toBe(withoutTime(reference.line));
    expect(keel.line.endsWith('}\n')).toBe(true);
    expect(keel.record).toEqual({ ...reference.record, time: keel.record.time });
    expect(keel.record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it.each([
    ['text that JSON escapes', { quote: 'a "b" \\ c\n\u0001 é 😀', lone: '\ud800' }],
    ['numbers JSON writes as null or 0', { nan: NaN, inf: -Infinity, negativeZero: -0, big: 1e21 }],
    ['booleans, null and an undefined value', { yes: true, no: false, none: null, missing: undefined }],
    ['no fields at all', {}],
  ])('writes %s as JSON.stringify does', (_case, fields) => {
    const { keel, bunyan: reference, byLine } = bothWays(fields, 'message with "quotes"');
    expect(byLine).toBe(true);
    expect(withoutTime(keel.line)).toBe(withoutTime(reference.line));
  });

  it.each([
    ['a field that overrides the logger’s', { resource: 'other' }],
    ['a field the record sets itself', { level: 99, v: 2 }],
    ['an identity field', { deploy_name: 'mine' }],
    ['an integer-like key, which an object orders first', { b: 1, '7': 'seven' }],
    ['an object value', { nested: { a: [1, 2] } }],
    ['a secret key', { password: 'hunter2' }],
    ['URL credentials in a value', { url: 'https://user:pw@db.example/x' }],
  ])('leaves %s to the record path, which writes it as before', (_case, fields) => {
    const { keel, bunyan: reference, byLine } = bothWays(fields, 'message');
    expect(byLine).toBe(false);
    expect(withoutTime(keel.line)).toBe(withoutTime(reference.line));
    expect(keel.line).not.toMatch(/hunter2|user:pw/);
  });

  it('masks URL credentials in the message through the record path', () => {
    const { keel, byLine } = bothWays({ status: 200 }, 'GET https://user:pw@api.example/x 200');
    expect(byLine).toBe(false);
    expect(keel.record.msg).toBe('GET https://[redacted]@api.example/x 200');
  });

  it('masks a secret value registered after the logger wrote lines, in its own fields too', () => {
    const { keel, entries } = loggers({ serviceName: 'svc', deployName: 'tenant-s3cr3t' });
    const secrets = new Set<string>();
    const unregister = registerSecretValues(secrets);
    try {
      keel.info({ user: 'ann' }, 'before');
      secrets.add('s3cr3t');
      keel.info({ user: 'ann' }, 'after');
    } finally {
      unregister();
    }
    expect(entries[0].record.deploy_name).toBe('tenant-s3cr3t');
    expect(entries[1].record.deploy_name).toBe('tenant-[redacted]');
    expect(entries[1].line).not.toContain('s3cr3t');
  });

  it('follows a deploy name set after lines were written', () => {
    const identity = { serviceName: 'svc', deployName: '' };
    const { keel, entries } = loggers(identity);
    keel.info({ n: 1 }, 'first');
    identity.deployName = 'eu-2';
    keel.warn({ n: 2 }, 'second');
    expect(entries.map((entry) => [entry.record.deploy_name, entry.record.levelname])).toEqual([
      ['', 'INFO'],
      ['eu-2', 'WARNING'],
    ]);
  });
});

describe('the call fields of a line', () => {
  const head = new LineHead({ name: 'svc', hostname: 'h', pid: 1, logger: 'svc.http' }, { err: true });

  it.each([
    ['the access line', ACCESS_FIELDS],
    [
      'escapes, undefined, NaN and -0',
      { q: 'a "b"\n\u0001 é 😀', lone: '\ud800', u: undefined, n: NaN, z: -0 },
    ],
    ['nothing', {}],
  ])('writes %s as JSON.stringify writes those fields', (_case, fields) => {
    const body = head.body(fields);
    expect(body === '' ? '{}' : `{${body!.slice(1)}}`).toBe(JSON.stringify(fields));
  });

  it.each([
    ['an object value', { nested: { a: 1 } }],
    ['a field bunyan serializes', { err: 'text' }],
    ['a field of the logger', { logger: 'other' }],
    ['a text with URL credentials', { url: 'amqp://guest:guest@mq/' }],
  ])('leaves %s to the record path', (_case, fields) => {
    expect(head.body(fields)).toBeUndefined();
  });

  it('writes an inherited field, as the record copies it', () => {
    expect(head.body(Object.create({ inherited: 1 }) as Record<string, unknown>)).toBe(',"inherited":1');
  });
});
