import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { median } from './measure';

/** What fixtures/fixed-cost-child.ts measures; see there. */
export type FreshSubject = 'first-hook' | 'graph-1000' | 'wide';

/** What the child prints before its JSON result, among the service's own log lines. */
export const RESULT_MARK = 'RESULT ';
const CHILD = path.join(__dirname, '..', 'fixtures', 'fixed-cost-child.ts');

export interface FreshSample {
  ms: number;
  cpuMs: number;
}

/**
 * One fresh Node process (the TypeScript loader of this run, no --expose-gc) running one sample of
 * fixtures/fixed-cost-child.ts: imports first, then the timed part.
 */
export function freshSample(subject: FreshSubject, side: 'keel' | 'inversify'): FreshSample {
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', CHILD, subject, side], {
    cwd: path.resolve(__dirname, '../../..'),
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
  subject: FreshSubject,
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
