import { Writable } from 'node:stream';
import { configureLogging, createProvisionalLogging } from '../../../lib/logging';
import { LineCapture, waitFor } from './capture';

/** A stdout whose reader stalls until `release()`: node's buffer holds what is written meanwhile. */
class HeldStream extends Writable {
  readonly lines: string[] = [];
  private held: (() => void)[] = [];
  private holding = true;

  constructor() {
    super({ highWaterMark: 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const take = () => {
      this.lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      callback();
    };
    if (this.holding) this.held.push(take);
    else take();
  }

  release(): void {
    this.holding = false;
    for (const take of this.held.splice(0)) take();
  }
}

describe('system.logging.stdout_max_queue_bytes', () => {
  it('holds at most that many bytes for a stalled stdout, counts the rest and tells once it drains', async () => {
    const stdout = new HeldStream();
    const logging = createProvisionalLogging({ serviceName: 'queue_svc', stderr: new LineCapture() });
    await configureLogging(logging, { profile: 'DEVELOP', stdout_max_queue_bytes: 4096 }, { stdout });
    const payload = 'x'.repeat(200);
    for (let n = 0; n < 100; n++) {
      logging.logger.info({ n, payload }, 'record');
      expect(stdout.writableLength).toBeLessThanOrEqual(4096);
    }
    const dropped = logging.droppedRecords().stdout;
    expect(dropped).toBeGreaterThan(50);

    stdout.release();
    await waitFor(() => stdout.lines.some((line) => line.includes('stdout was not read fast enough')));
    const records = stdout.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.msg === 'record').length).toBe(100 - dropped);
    expect(records.find((record) => record.stream === 'stdout')).toMatchObject({
      dropped,
      levelname: 'WARNING',
      msg: `stdout was not read fast enough: ${dropped} log record(s) dropped while its queue was full (system.logging.stdout_max_queue_bytes: 4096)`,
    });
    await logging.close();
  });

  it('is refused when not a positive integer, naming the key', async () => {
    const logging = createProvisionalLogging({ serviceName: 'queue_svc', stderr: new LineCapture() });
    await expect(configureLogging(logging, { stdout_max_queue_bytes: 0 })).rejects.toThrow(
      /stdout_max_queue_bytes/,
    );
  });
});
