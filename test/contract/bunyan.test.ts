// bunyan's logger fields and record (lib/logging/logger.ts): the record Keel builds of a plain call
// against bunyan's own on the pinned version, and the fallback a logger without those fields takes.
import bunyan from 'bunyan';
import { FALLBACK_WARNING } from '../../lib/internals/reach';
import { warnings } from '../support/warnings';
import { bunyanShaped, Logger, type RecordSink } from '../../lib/logging/logger';

function bunyanTo(records: object[]): bunyan {
  return bunyan.createLogger({
    name: 'svc',
    logger: 'svc.http',
    streams: [
      { type: 'raw', level: bunyan.TRACE, stream: { write: (record: object) => records.push(record) } },
    ],
  });
}

const lineWithoutTime = (record: object) => JSON.stringify({ ...record, time: undefined });
const CALL = { request_id: 'r-1', method: 'GET', status: 200 };

describe("bunyan's logger fields and record", () => {
  it('make, in the pinned version, the record bunyan itself makes of a plain call, without a warning', () => {
    const seen = warnings();
    const fromBunyan: object[] = [];
    const fromKeel: object[] = [];
    const target = bunyanTo(fromBunyan).child({ resource: 'http' });
    const keel = new Logger({ level: bunyan.TRACE }, target, { write: (record) => fromKeel.push(record) });
    keel.info(CALL, 'GET /hello 200');
    target.info(CALL, 'GET /hello 200');
    seen.stop();
    expect(bunyanShaped()).toBe(true);
    expect(fromKeel.map(lineWithoutTime)).toEqual(fromBunyan.map(lineWithoutTime));
    expect(seen.codes).toEqual([]);
  });

  it('leave every call to bunyan, and say so once, when a logger has no fields Keel can read', () => {
    const seen = warnings();
    const fromBunyan: object[] = [];
    const reference: object[] = [];
    const real = bunyanTo(fromBunyan);
    // Hidden from Keel's constructor only: bunyan's own methods still read their fields.
    let hidden = true;
    const target = new Proxy(real, {
      get: (object, key, receiver) =>
        key === 'fields' && hidden ? undefined : Reflect.get(object, key, receiver),
    });
    const fromKeel: object[] = [];
    const sink: RecordSink = { write: (record) => fromKeel.push(record) };
    const keel = new Logger({ level: bunyan.TRACE }, target, sink);
    hidden = false;
    keel.info(CALL, 'GET /hello 200');
    keel.info(CALL, 'again');
    bunyanTo(reference).info(CALL, 'GET /hello 200');
    seen.stop();
    expect(fromKeel).toEqual([]);
    expect(fromBunyan).toHaveLength(2);
    expect(lineWithoutTime(fromBunyan[0])).toBe(lineWithoutTime(reference[0]));
    expect(seen.codes).toEqual([FALLBACK_WARNING]);
  });
});
