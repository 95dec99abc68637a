import { performance } from 'node:perf_hooks';
import { createMicroservice, Microservice, type Phase } from '../../lib';
import { RANDOM_DAG_SEED, randomDag } from './support/dag';
import { resourceClasses, resourceName, serviceOf, type Hooks } from './support/classes';
import { medians, required, settleHeap, timed } from './support/measure';
import { fixed, markdownTable, times } from './support/table';

const SIZES = [1000, 5000];
const PHASES: readonly Phase[] = ['preStart', 'start', 'postStart', 'stop', 'postStop'];
const ROUNDS = { warmup: 3, repetitions: 9 };

/** Every hook is its own sync method that does nothing: what is left is Keel's cost per hook. */
function noOpHooks(): Hooks {
  return Object.fromEntries(PHASES.map((phase) => [phase, () => undefined]));
}

/**
 * A microservice base that times each phase around `super.<phase>()`: the span Keel needs to drive
 * every resource through that phase, as a user overriding the phase would see it.
 */
function phaseTimedBase(record: {
  current?: (phase: Phase, ms: number) => void;
}): abstract new () => Microservice {
  abstract class PhaseTimed extends Microservice {}
  for (const phase of PHASES) {
    Object.defineProperty(PhaseTimed.prototype, phase, {
      value: async function (this: Microservice) {
        const began = performance.now();
        await Microservice.prototype[phase].call(this);
        record.current?.(phase, performance.now() - began);
      },
    });
  }
  return PhaseTimed;
}

/** The floor: the same hooks of the same instances called in a plain loop, in the order Keel calls them. */
function callInLoop(instances: readonly Hooks[], phase: Phase): void {
  const reverse = phase === 'stop' || phase === 'postStop';
  for (let step = 0; step < instances.length; step++)
    instances[reverse ? instances.length - 1 - step : step][phase]!();
}

async function measureSize(size: number): Promise<string[][]> {
  const classes = resourceClasses(randomDag(size, 3, RANDOM_DAG_SEED), noOpHooks);
  const phaseRecorder: { current?: (phase: Phase, ms: number) => void } = {};
  const Service = serviceOf(`phase_bench_${size}`, classes, phaseTimedBase(phaseRecorder));
  const results = await medians(ROUNDS, async (record) => {
    const app = await createMicroservice(Service, { settings: {} });
    const instances = classes.map((_, index) => app.get<Hooks>(resourceName(index)));
    phaseRecorder.current = (phase, ms) => record(`keel ${phase}`, ms);
    await settleHeap();
    await app.start();
    await app.stop();
    phaseRecorder.current = undefined;
    for (const phase of PHASES) record(`floor ${phase}`, await timed(() => callInLoop(instances, phase)));
  });
  const perResourceUs = (ms: number) => (ms * 1000) / size;
  return PHASES.map((phase) => {
    const keel = perResourceUs(required(results, `keel ${phase}`));
    const floor = perResourceUs(required(results, `floor ${phase}`));
    return [
      String(size),
      phase,
      fixed(keel, 3),
      fixed(floor, 4),
      times(keel / floor),
      fixed(keel - floor, 3),
    ];
  });
}

export async function main(): Promise<void> {
  const rows: string[][] = [];
  for (const size of SIZES) rows.push(...(await measureSize(size)));
  console.log('## phase overhead: sync no-op hooks on every resource, µs per resource per phase\n');
  console.log(
    markdownTable(
      [
        'N',
        'phase',
        'Keel µs/resource',
        'plain loop µs/resource',
        'Keel / loop',
        'Keel overhead µs/resource',
      ],
      rows,
    ),
  );
  console.log(
    `\nRandom DAG (seed 0x${RANDOM_DAG_SEED.toString(16)}, up to 3 dependencies). Keel's figure spans super.<phase>() in a ` +
      `Microservice override; the floor calls the same methods of the same instances in a plain loop. ` +
      `Medians of ${ROUNDS.repetitions} repetitions after ${ROUNDS.warmup} warm-up.\n`,
  );
}
