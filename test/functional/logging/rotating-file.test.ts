import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  configureLogging,
  createProvisionalLogging,
  type Logging,
  type LoggingSettingsInput,
} from '../../../lib/logging';
import { LineCapture, waitFor } from '../../unit/logging/capture';

describe('rotating file stream', () => {
  let dir: string;
  let file: string;
  let logging: Logging;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-logging-file-'));
    file = path.join(dir, 'nested', 'app.log');
    logging = createProvisionalLogging({ serviceName: 'billing_api', stderr: new LineCapture() });
  });

  afterEach(async () => {
    await logging.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function useFile(rotation: NonNullable<LoggingSettingsInput['file']>): Promise<void> {
    await configureLogging(logging, { profile: 'DEVELOP', stdout: false, file_path: file, file: rotation });
  }

  function recordsIn(name: string): Record<string, any>[] {
    return fs
      .readFileSync(name, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
  }

  it('rotates by size, keeps `count` files, and loses nothing inside them', async () => {
    await useFile({ max_bytes: 4096, count: 3 });
    const total = 400;
    for (let n = 0; n < total; n++) logging.logger.info({ n, padding: 'x'.repeat(100) }, 'record %d', n);
    await logging.close();

    const names = fs.readdirSync(path.dirname(file)).sort();
    expect(names).toEqual(['app.log', 'app.log.0', 'app.log.1', 'app.log.2']);
    for (const name of names)
      expect(fs.statSync(path.join(path.dirname(file), name)).size).toBeLessThanOrEqual(4096);
    // Oldest kept file first: together they hold the newest records, in order, without a gap.
    const kept = ['app.log.2', 'app.log.1', 'app.log.0', 'app.log'].flatMap((name) =>
      recordsIn(path.join(path.dirname(file), name)),
    );
    const numbers = kept.map((record) => record.n);
    expect(numbers[numbers.length - 1]).toBe(total - 1);
    expect(numbers).toEqual(
      Array.from({ length: numbers.length }, (_, index) => total - numbers.length + index),
    );
  });

  it('rotates on period boundaries', async () => {
    await useFile({ max_bytes: 0, period: '1s', count: 2 });
    logging.logger.info('before the boundary');
    await logging.flush();
    await waitFor(() => fs.existsSync(`${file}.0`), 10_000, 'a rotated file');
    logging.logger.info('after the boundary');
    await logging.close();

    // A loaded machine may cross one more boundary before close; the order across files still holds.
    const files = [`${file}.1`, `${file}.0`, file].filter((name) => fs.existsSync(name));
    expect(files.flatMap((name) => recordsIn(name)).map((record) => record.msg)).toEqual([
      'before the boundary',
      'after the boundary',
    ]);
    expect(fs.existsSync(file) ? recordsIn(file).map((record) => record.msg) : []).not.toContain(
      'before the boundary',
    );
  });

  it('counts an existing file towards the size and appends to it', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ msg: 'from the last run' })}\n`.padStart(900, ' '));
    await useFile({ max_bytes: 1000, count: 1 });
    logging.logger.info({ padding: 'y'.repeat(200) }, 'first of this run');
    await logging.close();

    expect(fs.readFileSync(`${file}.0`, 'utf8')).toContain('from the last run');
    expect(recordsIn(file).map((record) => record.msg)).toEqual(['first of this run']);
  });

  it('keeps no old file when count is 0', async () => {
    await useFile({ max_bytes: 600, count: 0 });
    for (let n = 0; n < 20; n++) logging.logger.info({ n }, 'record %d', n);
    await logging.close();

    expect(fs.readdirSync(path.dirname(file))).toEqual(['app.log']);
    expect(
      recordsIn(file)
        .map((record) => record.n)
        .pop(),
    ).toBe(19);
  });
});
