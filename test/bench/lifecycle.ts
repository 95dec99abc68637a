import { setTimeout as sleep } from 'node:timers/promises';
import { createMicroservice } from '../../lib';
import { criticalPathMs, layeredDag, levelBarrierMs, levels, type Dag } from './support/dag';
import { resourceClasses, serviceOf } from './support/classes';
import { freshMedians } from './support/fresh';
import { medians, required, timed } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import { WIDE_COUNT, WIDE_HOOK_MS } from './fixtures/fixed-cost-child';

const HOOK_MS = 50;
const SLOW_HOOK_MS = 450;
const TARGET_RATIO = 1.03;
const ROUNDS = { warmup: 2, repetitions: 11 };
/** Issue 15: createMicroservice + start of the wide shape, from a fresh process, over its critical path. */
const TARGET_FRESH_RATIO = 1.2;
const FRESH_PROCESSES = Number(process.env.LIFECYCLE_FRESH_PROCESSES ?? 7);

interface Shape {
  name: string;
  dag: Dag;
  durationsMs: number[];
}

/** (a) 6 layers of 10, each resource depending on 1-3 resources of the layer below. */
function layered(): Shape {
  const dag = layeredDag(6, 10, { min: 1, max: 3 }, 0x1a7e5);
  return { name: '(a) 6 layers x 10', dag, durationsMs: dag.map(() => HOOK_MS) };
}

/** (b) one slow resource beside a chain of ten, and a top resource that needs both ends. */
function skewed(): Shape {
  const slow = 0;
  const chain = Array.from({ length: 10 }, (_, link) => 1 + link);
  const dag: number[][] = [
    [],
    ...chain.map((index) => (index === chain[0] ? [] : [index - 1])),
    [slow, chain[chain.length - 1]],
  ];
  const durationsMs = dag.map((_, index) => (index === slow ? SLOW_HOOK_MS : HOOK_MS));
  return { name: '(b) skewed: 450 ms beside 10 x 50 ms', dag, durationsMs };
}

/** (c) wide: independent resources, nothing to wait for; the fixed cost of an app is all there is above one hook. */
function wide(): Shape {
  const dag: number[][] = Array.from({ length: WIDE_COUNT }, () => []);
  return {
    name: `(c) wide: ${WIDE_COUNT} independent x ${WIDE_HOOK_MS} ms`,
    dag,
    durationsMs: dag.map(() => WIDE_HOOK_MS),
  };
}

/** The same hooks chained by hand with promises: each waits for exactly its dependencies, no framework. */
async function runEagerByHand(shape: Shape): Promise<void> {
  const done: Promise<void>[] = [];
  shape.dag.forEach((dependsOn, index) => {
    done[index] = Promise.all(dependsOn.map((dependency) => done[dependency])).then(() =>
      sleep(shape.durationsMs[index]),
    );
  });
  await Promise.all(done);
}

/** A level-by-level scheduler, run for real: every hook of a level must finish before the next level begins. */
async function runLevelBarrier(shape: Shape): Promise<void> {
  for (const level of levels(shape.dag))
    await Promise.all(level.map((index) => sleep(shape.durationsMs[index])));
}

async function measureShape(shape: Shape): Promise<string[]> {
  const classes = resourceClasses(shape.dag, (index) => ({
    async start() {
      await sleep(shape.durationsMs[index]);
    },
  }));
  const Service = serviceOf('lifecycle_bench', classes);
  const results = await medians(ROUNDS, async (record) => {
    const app = await createMicroservice(Service, { settings: {} });
    record('keel', await timed(() => app.start()));
    await app.stop();
    record('eager', await timed(() => runEagerByHand(shape)));
    record('barrier', await timed(() => runLevelBarrier(shape)));
  });
  const critical = criticalPathMs(shape.dag, shape.durationsMs);
  const keel = required(results, 'keel');
  const eager = required(results, 'eager');
  const ratio = keel / critical;
  return [
    shape.name,
    String(shape.dag.length),
    fixed(critical, 0),
    fixed(keel, 1),
    times(ratio),
    verdict(ratio <= TARGET_RATIO),
    fixed(eager, 1),
    times(keel / eager),
    fixed(levelBarrierMs(shape.dag, shape.durationsMs), 0),
    fixed(required(results, 'barrier'), 1),
  ];
}

export async function main(): Promise<void> {
  const rows = [await measureShape(layered()), await measureShape(skewed()), await measureShape(wide())];
  const fresh = freshMedians('wide', FRESH_PROCESSES);
  const freshRatio = fresh.keel.ms / WIDE_HOOK_MS;
  console.log(
    `## lifecycle: ready time (app.start()) vs the graph's critical path (start hooks sleep via setTimeout)\n`,
  );
  console.log(
    markdownTable(
      [
        'shape',
        'resources',
        'critical path ms',
        'Keel ready ms',
        'Keel / critical',
        `target <= ${times(TARGET_RATIO)}`,
        'hand-chained promises ms',
        'Keel / hand-chained',
        'level barrier ms (simulated)',
        'level barrier ms (run)',
      ],
      rows,
    ),
  );
  console.log(
    `\nMedians of ${ROUNDS.repetitions} repetitions after ${ROUNDS.warmup} warm-up. "hand-chained promises" runs the same ` +
      'sleeps wired by hand with Promise.all, without Keel: the timer overshoot any scheduler pays.\n',
  );
  console.log(
    `## lifecycle, fresh process: createMicroservice + start of shape (c) vs its critical path (${WIDE_HOOK_MS} ms)\n`,
  );
  console.log(
    markdownTable(
      ['side', 'ms (median)', 'CPU ms (median)', '/ critical path', `target <= ${times(TARGET_FRESH_RATIO)}`],
      [
        [
          'Keel: createMicroservice + start',
          fixed(fresh.keel.ms, 1),
          fixed(fresh.keel.cpuMs, 1),
          times(freshRatio),
          verdict(freshRatio <= TARGET_FRESH_RATIO),
        ],
        [
          'raw inversify: resolve the same classes, await every start hook',
          fixed(fresh.inversify.ms, 1),
          fixed(fresh.inversify.cpuMs, 1),
          times(fresh.inversify.ms / WIDE_HOOK_MS),
          '-',
        ],
      ],
    ),
  );
  console.log(
    `\n${FRESH_PROCESSES} new Node processes per side, interleaved; each imports everything first, then times the ` +
      'one call; medians.\n',
  );
}
