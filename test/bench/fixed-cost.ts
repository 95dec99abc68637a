import os from 'node:os';
import { freshMedians } from './support/fresh';
import { fixed, markdownTable, times, verdict } from './support/table';

/** Issue 15: the first start hook runs within this many ms of the `createMicroservice` call. */
const TARGET_FIRST_HOOK_MS = 15;
const PROCESSES = Number(process.env.FIXED_COST_PROCESSES ?? 11);

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
