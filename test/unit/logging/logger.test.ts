import bunyan from 'bunyan';
import { Logger, type RecordSink } from '../../../lib/logging/logger';

/** A bunyan logger writing to a raw stream, and a Keel Logger in front of it writing to another. */
function loggers(): { keel: Logger; bunyanLogger: bunyan; fromKeel: object[]; fromBunyan: object[] } {
  const fromBunyan: object[] = [];
  const fromKeel: object[] = [];
  const bunyanLogger = bunyan.createLogger({
    name: 'svc',
    logger: 'svc.http',
    level: bunyan.TRACE,
    streams: [
      { type: 'raw', stream: { write: (record: object) => fromBunyan.push(record) }, level: bunyan.TRACE },
    ],
    serializers: bunyan.stdSerializers,
  });
  const sink: RecordSink = { write: (record) => fromKeel.push(record) };
  const keel = new Logger({ level: bunyan.TRACE }, bunyanLogger, sink).child({ resource: 'http' });
  return { keel, bunyanLogger: bunyanLogger.child({ resource: 'http' }), fromKeel, fromBunyan };
}

/** The JSON line as a stream writes it, without the time, which differs by the call's instant. */
function lineWithoutTime(record: object): string {
  return JSON.stringify({ ...record, time: undefined });
}

describe('Logger', () => {
  it('builds a plain (fields, message) record itself, field for field and in the order bunyan would', () => {
    const { keel, bunyanLogger, fromKeel, fromBunyan } = loggers();
    const fields = { request_id: 'r-1', method: 'GET', status: 200, nested: { a: [1, 2] } };
    keel.info(fields, 'GET /hello 200');
    bunyanLogger.info(fields, 'GET /hello 200');
    expect(fromBunyan).toHaveLength(1);
    expect(fromKeel).toHaveLength(1);
    expect(lineWithoutTime(fromKeel[0])).toBe(lineWithoutTime(fromBunyan[0]));
    expect((fromKeel[0] as { time: unknown }).time).toBeInstanceOf(Date);
  });

  it('lets a call field override a logger field, as bunyan does', () => {
    const { keel, bunyanLogger, fromKeel, fromBunyan } = loggers();
    keel.warn({ resource: 'other', level: 99 }, 'overridden');
    bunyanLogger.warn({ resource: 'other', level: 99 }, 'overridden');
    expect(lineWithoutTime(fromKeel[0])).toBe(lineWithoutTime(fromBunyan[0]));
  });

  it.each([
    ['a field bunyan serializes', [{ err: new Error('boom') }, 'failed']],
    ['format arguments', [{ id: 1 }, 'took %d ms', 12]],
    ['a format directive in the message', [{ id: 1 }, '100% done']],
    ['an error first', [new Error('boom'), 'failed']],
    ['a message alone', ['just words']],
  ])('leaves a call with %s to bunyan', (_case, args) => {
    const { keel, fromKeel, fromBunyan } = loggers();
    (keel.info as (...args: unknown[]) => void)(...args);
    expect(fromKeel).toHaveLength(0);
    expect(fromBunyan).toHaveLength(1);
  });

  it('builds nothing below the gate level', () => {
    const fromKeel: object[] = [];
    const gated = new Logger({ level: bunyan.WARN }, bunyan.createLogger({ name: 'svc' }), {
      write: (record) => fromKeel.push(record),
    });
    gated.info({ id: 1 }, 'dropped');
    expect(fromKeel).toHaveLength(0);
  });
});
