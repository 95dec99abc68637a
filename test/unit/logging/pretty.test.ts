import { chooseFormat, prettyLine } from '../../../lib/logging/pretty';
import type { LogRecord } from '../../../lib/logging/record';

const record = (fields: Partial<LogRecord> & Record<string, unknown>): LogRecord => ({
  name: 'shop',
  hostname: 'host',
  pid: 1,
  level: 30,
  msg: 'listening',
  time: '2026-01-02T03:04:05.678Z',
  v: 0,
  service_name: 'shop',
  deploy_name: '',
  levelname: 'INFO',
  logger: 'shop.http',
  resource: 'http',
  instance_id: 'a1b2c3d4',
  ...fields,
});

describe('chooseFormat', () => {
  it('is pretty only with DEVELOP: on a terminal for auto, anywhere for pretty; JSON in TESTING and PRODUCTION', () => {
    expect(chooseFormat('auto', 'DEVELOP', true)).toBe('pretty');
    expect(chooseFormat('auto', 'DEVELOP', false)).toBe('json');
    expect(chooseFormat('pretty', 'DEVELOP', false)).toBe('pretty');
    expect(chooseFormat('json', 'DEVELOP', true)).toBe('json');
    for (const profile of ['TESTING', 'PRODUCTION'] as const) {
      for (const format of ['auto', 'pretty', 'json'] as const)
        expect(chooseFormat(format, profile, true)).toBe('json');
    }
  });
});

describe('prettyLine', () => {
  it('shows time, level, logger, message and the extra fields; the fields every record has are left out', () => {
    expect(prettyLine(record({ port: 8080, host: '127.0.0.1', tags: ['a'], note: 'two words' }), false)).toBe(
      '03:04:05.678 INFO     shop.http listening port=8080 host=127.0.0.1 tags=["a"] note="two words"\n',
    );
  });

  it("keeps an error's stack, indented under the line", () => {
    const err = { message: 'boom', name: 'Error', stack: 'Error: boom\n    at start (shop.ts:1:1)' };
    expect(prettyLine(record({ levelname: 'ERROR', level: 50, msg: 'failed', err }), false)).toBe(
      '03:04:05.678 ERROR    shop.http failed\n    Error: boom\n        at start (shop.ts:1:1)\n',
    );
  });
});
