import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import { RESULT_MARK } from './fixtures/fixed-cost-child';

/** Issue 15: the first start hook runs within this many ms of the `createMicroservice` call. */
const TARGET_FIRST_HOOK_MS = 15;
const PROCESSES = Number(process.env.FIXED_COST_PROCESSES ?? 11);
const CHILD = path.join(__dirname, 'fixtures', 'fixed-cost-child.ts');

export interface FreshSample {
  ms: number;
  cpuMs: number;
}

/**
 * One fresh Node process (the TypeScript loader of this run, no --expose-gc) running one sample of
 * fixtures/fixed-cost-child.ts: imports first, then the timed part.
 */
export function freshSample(subject: string, side: 'keel' | 'inversify'): FreshSample {
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', CHILD, subject, side], {
    cwd: path.resolve(__dirname, '../..'),
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const line = child.stdout.split('\n').find((text) => text.startsWith(RESULT_MARK));
  if (child.status !== 0 || line === undefined)
    throw new Error(`${subject} ${side} failed (exit ${child.status}): ${child.stderr}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as FreshSample;
}

/** `count` fresh processes of each side, interleaved so that a burst of load lands on both; medians. */
export function freshMedians(
  subject: string,
  count: number,
): { keel: FreshSample; inversify: FreshSample; ratio: number; cpuRatio: number } {
  const keel: FreshSample[] = [];
  const inversify: FreshSample[] = [];
  for (let round = 0; round < count; round++) {
    keel.push(freshSample(subject, 'keel'));
    inversify.push(freshSample(subject, 'inversify'));
  }
  const ratios = keel.map((sample, index) => sample.ms / inversify[index].ms);
  const cpuRatios = keel.map((sample, index) => sample.cpuMs / inversify[index].cpuMs);
  const medianOf = (samples: FreshSample[]) => ({
    ms: median(samples.map((sample) => sample.ms)),
    cpuMs: median(samples.map((sample) => sample.cpuMs)),
  });
  return {
    keel: medianOf(keel),
    inversify: medianOf(inversify),
    ratio: median(ratios),
    cpuRatio: median(cpuRatios),
  };
}

export async function main(): Promise<void> {
  const load = os.loadavg()[0];
  const result = freshMedians('first-hook', PROCESSES);
  console.log(
    '## fixed cost per app: createMicroservice call -> first start hook, fresh process ' +
      '(4 resources in a diamond, plus the default resources: report server on port 0, metrics, status)\n',
  );
  console.log(
    markdownTable(
      ['side', 'wall ms (median)', 'CPU ms (median)', 'target', 'verdict'],
      [
        [
          'Keel: createMicroservice -> first start hook',
          fixed(result.keel.ms, 2),
          fixed(result.keel.cpuMs, 2),
          `<= ${TARGET_FIRST_HOOK_MS} ms`,
          verdict(result.keel.ms <= TARGET_FIRST_HOOK_MS),
        ],
        [
          'raw inversify: new Container, bind, get the 4 classes, call the first start hook',
          fixed(result.inversify.ms, 2),
          fixed(result.inversify.cpuMs, 2),
          '-',
          '-',
        ],
        [
          'Keel / inversify (median of per-process pairs)',
          times(result.ratio),
          times(result.cpuRatio),
          '-',
          '-',
        ],
      ],
    ),
  );
  console.log(
    `\n${PROCESSES} fresh processes per side, interleaved; every import is done before the clock starts. ` +
      `CPU ms is this process's user + system time over the same span. Load average ${load.toFixed(2)} -> ` +
      `${os.loadavg()[0].toFixed(2)}.\n`,
  );
}
