import { createMicroservice, type App, type Microservice, type ResourceClass } from '../../lib';
import { edgeCount, RANDOM_DAG_SEED, randomDag } from './support/dag';
import { resolveWithInversify, resourceClasses, serviceOf } from './support/classes';
import { medians, required, timedWithCpu, type Recorder } from './support/measure';
import { freshMedians } from './support/fresh';
import { fixed, markdownTable, times, verdict } from './support/table';

const SIZES = [100, 1000, 5000];
const MAX_DEPENDENCIES = 3;
const TARGET_RATIO_AT_1000 = 1.0;
const TARGET_GROWTH_1000_TO_5000 = 5.5;
const ROUNDS = { warmup: 2, repetitions: 9 };
/** Issue 15: at N=100 the fixed cost per app must not dominate, and a fresh process at N=1000 is tsyringe's league. */
const TARGET_RATIO_AT_100 = 1.2;
const TARGET_FRESH_RATIO_AT_1000 = 0.5;
const FRESH_PROCESSES = Number(process.env.GRAPH_FRESH_PROCESSES ?? 7);

interface Subject {
  size: number;
  edges: number;
  classes: ResourceClass[];
  Service: ResourceClass<Microservice>;
}

interface Sample {
  keel: number;
  inversify: number;
  keelCpu: number;
  inversifyCpu: number;
}

function subject(size: number): Subject {
  const dag = randomDag(size, MAX_DEPENDENCIES, RANDOM_DAG_SEED);
  const classes = resourceClasses(dag);
  return { size, edges: edgeCount(dag), classes, Service: serviceOf(`graph_bench_${size}`, classes) };
}

/**
 * One sample of Keel's `createMicroservice` + `start` (graph, settings, construction, the three
 * start phases) and one of raw inversify resolving the same classes, taken back to back.
 */
async function sampleSize({ size, classes, Service }: Subject, record: Recorder): Promise<Sample> {
  let app: App | undefined;
  const create = await timedWithCpu(async () => {
    app = await createMicroservice(Service, { settings: {} });
  });
  const start = await timedWithCpu(() => app!.start());
  const stop = await timedWithCpu(() => app!.stop());
  const inversify = await timedWithCpu(() => resolveWithInversify(classes));
  const sample = {
    keel: create.wallMs + start.wallMs,
    inversify: inversify.wallMs,
    keelCpu: create.cpuMs + start.cpuMs,
    inversifyCpu: inversify.cpuMs,
  };
  record(`${size} create`, create.wallMs);
  record(`${size} start`, start.wallMs);
  record(`${size} keel`, sample.keel);
  record(`${size} stop`, stop.wallMs);
  record(`${size} inversify`, sample.inversify);
  record(`${size} ratio`, sample.keel / sample.inversify);
  record(`${size} cpu ratio`, sample.keelCpu / sample.inversifyCpu);
  return sample;
}

export async function main(): Promise<void> {
  const subjects = SIZES.map(subject);
  // Every round measures every size, so a burst of load from elsewhere on the machine lands on all
  // sizes alike instead of on whichever size happened to run at that moment.
  const results = await medians(ROUNDS, async (record) => {
    const samples = new Map<number, Sample>();
    for (const entry of subjects) samples.set(entry.size, await sampleSize(entry, record));
    const [small, large] = [samples.get(1000)!, samples.get(5000)!];
    record('keel growth', large.keel / small.keel);
    record('inversify growth', large.inversify / small.inversify);
    record('keel cpu growth', large.keelCpu / small.keelCpu);
  });
  const median = (label: string) => required(results, label);

  console.log(
    `## graph: createMicroservice + start vs raw inversify (random DAG, seed 0x${RANDOM_DAG_SEED.toString(16)}, ` +
      `up to ${MAX_DEPENDENCIES} dependencies, no hook methods)\n`,
  );
  console.log(
    markdownTable(
      [
        'N',
        'edges',
        'Keel create ms',
        'Keel start ms',
        'Keel total ms',
        'inversify ms',
        'Keel / inversify',
        'same, CPU time',
        'Keel stop ms (untimed)',
      ],
      subjects.map(({ size, edges }) => [
        String(size),
        String(edges),
        fixed(median(`${size} create`), 2),
        fixed(median(`${size} start`), 2),
        fixed(median(`${size} keel`), 2),
        fixed(median(`${size} inversify`), 2),
        times(median(`${size} ratio`)),
        times(median(`${size} cpu ratio`)),
        fixed(median(`${size} stop`), 2),
      ]),
    ),
  );
  const ratio = median('1000 ratio');
  const ratioAt100 = median('100 ratio');
  const growth = median('keel growth');
  const fresh = freshMedians('graph-1000', FRESH_PROCESSES);
  console.log('');
  console.log(
    markdownTable(
      ['check', 'measured', 'target', 'verdict'],
      [
        [
          'Keel / inversify at N=1000',
          times(ratio),
          `<= ${times(TARGET_RATIO_AT_1000)}`,
          verdict(ratio <= TARGET_RATIO_AT_1000),
        ],
        [
          'Keel / inversify at N=100',
          times(ratioAt100),
          `<= ${times(TARGET_RATIO_AT_100)}`,
          verdict(ratioAt100 <= TARGET_RATIO_AT_100),
        ],
        [
          `Keel / inversify at N=1000, fresh process (${fixed(fresh.keel.ms, 1)} vs ${fixed(fresh.inversify.ms, 1)} ms)`,
          times(fresh.ratio),
          `<= ${times(TARGET_FRESH_RATIO_AT_1000)}`,
          verdict(fresh.ratio <= TARGET_FRESH_RATIO_AT_1000),
        ],
        [
          'Keel growth 1000 -> 5000',
          times(growth),
          `<= ${times(TARGET_GROWTH_1000_TO_5000)}`,
          verdict(growth <= TARGET_GROWTH_1000_TO_5000),
        ],
        ['Keel / inversify at N=1000, CPU time (context)', times(median('1000 cpu ratio')), '-', '-'],
        ['Keel / inversify at N=100, CPU time (context)', times(median('100 cpu ratio')), '-', '-'],
        [
          `Keel / inversify at N=1000, fresh process, CPU time (${fixed(fresh.keel.cpuMs, 1)} vs ${fixed(fresh.inversify.cpuMs, 1)} ms; context)`,
          times(fresh.cpuRatio),
          '-',
          '-',
        ],
        ['Keel growth 1000 -> 5000, CPU time (context)', times(median('keel cpu growth')), '-', '-'],
        ['inversify growth 1000 -> 5000 (context)', times(median('inversify growth')), '-', '-'],
      ],
    ),
  );
  console.log(
    `\nMedians of ${ROUNDS.repetitions} rounds after ${ROUNDS.warmup} warm-up; each round measures every size, ` +
      'Keel then inversify on the same classes, each after a forced GC. Ratios and growths are medians of ' +
      'the per-round ratios. Times are wall clock unless marked CPU time (user + system of this process). ' +
      `"fresh process": ${FRESH_PROCESSES} new Node processes per side, interleaved, each importing everything first and ` +
      'then timing one createMicroservice + start (or one inversify container resolving the same classes); medians of ' +
      'the per-process pairs.\n',
  );
}
