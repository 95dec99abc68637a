/**
 * 100,000 records to a file stream through Keel's logger against raw bunyan writing the same
 * fields to a file, in the same run. Target: Keel >= 0.8x raw bunyan's records/s.
 */
import bunyan from 'bunyan';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { configureLogging, createProvisionalLogging } from '../../lib/logging';

const RECORDS = 100_000;
const ROUNDS = 7;
const TARGET_RATIO = 0.8;

type Writer = (file: string) => Promise<number>;

function logRecords(log: { info(fields: Record<string, unknown>, message: string, n: number): void }): void {
  for (let i = 0; i < RECORDS; i++)
    log.info({ request_id: 'req-42', attempt: i % 3 }, 'handled request %d', i);
}

/** Elapsed ms from the first record to the last one written to the file. */
const rawBunyan: Writer = async (file) => {
  const stream = fs.createWriteStream(file, { flags: 'a' });
  const root = bunyan.createLogger({ name: 'bench', streams: [{ stream, level: 'info' }] });
  // The same static fields Keel's resource logger carries, so both write comparable lines.
  const log = root.child({
    logger: 'bench.worker',
    resource: 'worker',
    service_name: 'bench',
    deploy_name: 'bench',
  });
  const start = performance.now();
  logRecords(log);
  await finished(stream.end());
  return performance.now() - start;
};

const keel: Writer = async (file) => {
  const logging = createProvisionalLogging({ serviceName: 'bench' });
  await configureLogging(
    logging,
    { profile: 'PRODUCTION', stdout: false, file_path: file, file: { max_bytes: 0 } },
    { deployName: 'bench' },
  );
  const log = logging.forResource('worker');
  const start = performance.now();
  logRecords(log);
  await logging.close();
  return performance.now() - start;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const recordsPerSecond = (ms: number): number => Math.round((RECORDS / ms) * 1000);

export async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-bench-logging-'));
  const timings: Record<'raw' | 'keel', number[]> = { raw: [], keel: [] };
  try {
    // Interleaved rounds, after one warm-up of each, so drift in the machine hits both alike.
    for (let round = -1; round < ROUNDS; round++) {
      for (const [name, writer] of [
        ['raw', rawBunyan],
        ['keel', keel],
      ] as const) {
        const file = path.join(dir, `${name}-${round}.log`);
        const ms = await writer(file);
        fs.rmSync(file);
        if (round >= 0) timings[name].push(ms);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Best of the rounds is what each can do; the median shows how much a busy machine moved them.
  const best = {
    raw: recordsPerSecond(Math.min(...timings.raw)),
    keel: recordsPerSecond(Math.min(...timings.keel)),
  };
  const typical = {
    raw: recordsPerSecond(median(timings.raw)),
    keel: recordsPerSecond(median(timings.keel)),
  };
  const ratio = best.keel / best.raw;
  console.table([
    { writer: 'raw bunyan (floor)', 'records/s best': best.raw, 'records/s median': typical.raw, ratio: 1 },
    {
      writer: 'keel logger',
      'records/s best': best.keel,
      'records/s median': typical.keel,
      ratio: Number(ratio.toFixed(2)),
    },
  ]);
  console.log(
    `${RECORDS} records to a file, best of ${ROUNDS} rounds: keel/raw = ${ratio.toFixed(2)}x ` +
      `(median ${(typical.keel / typical.raw).toFixed(2)}x), target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
  );
}

if (require.main === module) void main();
