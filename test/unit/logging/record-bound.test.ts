import { configureLogging, createProvisionalLogging } from '../../../lib/logging';
import { LineCapture, waitFor } from './capture';

async function logging(settings: Record<string, unknown>) {
  const stdout = new LineCapture();
  const logging = createProvisionalLogging({ serviceName: 'bound_svc', stderr: new LineCapture() });
  await configureLogging(logging, { profile: 'DEVELOP', format: 'json', ...settings }, { stdout });
  return { logging, stdout };
}

describe('system.logging.max_record_chars', () => {
  it('cuts a 6 MiB field to a line within the default bound, and the record says so', async () => {
    const { logging: log, stdout } = await logging({});
    const huge = 'x'.repeat(6 * 1024 * 1024);
    log.logger.info({ payload: huge, order: 7 }, 'dumped a payload');
    log.logger.info({ nested: { body: huge } }, 'dumped an object');
    log.logger.info({ small: 'fine' }, 'a small one');
    await log.flush();
    expect(stdout.lines).toHaveLength(3);
    for (const line of stdout.lines) expect(line.length).toBeLessThanOrEqual(64 * 1024);
    const [payload, nested, small] = stdout.records;
    expect(payload).toMatchObject({
      msg: 'dumped a payload',
      order: 7,
      service_name: 'bound_svc',
      levelname: 'INFO',
      truncated: { limit: 65_536, cut: ['payload'], omitted: [] },
    });
    expect(payload.truncated.chars).toBeGreaterThan(6 * 1024 * 1024);
    expect(payload.payload).toBe(`${'x'.repeat(16_384)}…`);
    expect(nested).toMatchObject({ msg: 'dumped an object', truncated: { cut: ['nested'] } });
    expect(nested.nested).toMatch(/^\{"body":"x+…$/);
    expect(small).not.toHaveProperty('truncated');
    await log.close();
  });

  it('leaves out the fields that still do not fit, last first, keeping identity, level and message', async () => {
    const { logging: log, stdout } = await logging({ max_record_chars: 2000 });
    const fields = Object.fromEntries([...Array(40).keys()].map((n) => [`field_${n}`, 'y'.repeat(100)]));
    log.logger.warn(fields, 'many fields');
    await log.flush();
    const [record] = stdout.records;
    expect(stdout.lines[0].length).toBeLessThanOrEqual(2000);
    expect(record).toMatchObject({ msg: 'many fields', levelname: 'WARNING', service_name: 'bound_svc' });
    expect(record.field_0).toBe('y'.repeat(100));
    expect(record.truncated.omitted).toContain('field_39');
    expect(record).not.toHaveProperty('field_39');
    await log.close();
  });

  it('a record longer than the stdout queue on its own is dropped with a notice that says so, not one that blames the reader', async () => {
    const { logging: log, stdout } = await logging({
      max_record_chars: 100_000,
      stdout_max_queue_bytes: 10_000,
    });
    log.logger.info({ payload: 'z'.repeat(50_000) }, 'too big for the queue');
    log.logger.info('after it');
    await log.flush();
    await waitFor(() => stdout.lines.some((line) => line.includes('after it')));
    const messages = stdout.records.map((record) => record.msg as string);
    expect(messages).not.toContain('too big for the queue');
    expect(messages.some((message) => message.includes('not read fast enough'))).toBe(false);
    expect(stdout.records.find((record) => record.chars !== undefined)).toMatchObject({
      stream: 'stdout',
      dropped: 1,
      msg: expect.stringMatching(
        /^a log record of \d+ characters was dropped: it is longer than system\.logging\.stdout_max_queue_bytes \(10000\) on its own/,
      ) as unknown,
    });
    expect(log.droppedRecords().stdout).toBe(1);
    await log.close();
  });

  it('is refused when not a positive integer, naming the key', async () => {
    const log = createProvisionalLogging({ serviceName: 'bound_svc', stderr: new LineCapture() });
    await expect(configureLogging(log, { max_record_chars: 0 })).rejects.toThrow(/max_record_chars/);
  });
});
