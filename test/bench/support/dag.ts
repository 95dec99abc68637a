import { pickDistinct, seededRandom } from './random';

/**
 * A DAG as adjacency lists: `dependsOn[i]` holds indices smaller than i, so index order is a
 * topological order and a resource can only need resources created before it.
 */
export type Dag = readonly (readonly number[])[];

/** The seed of the random DAG the graph and phase-overhead benches share, so their N mean the same graph. */
export const RANDOM_DAG_SEED = 0x6b65656c;

/** Each node depends on 0..maxDependencies distinct earlier nodes. */
export function randomDag(count: number, maxDependencies: number, seed: number): Dag {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => {
    const wanted = Math.floor(random() * (maxDependencies + 1));
    return pickDistinct(random, wanted, index);
  });
}

/** `layers` layers of `width` nodes; each node depends on minDependencies..maxDependencies nodes of the layer below. */
export function layeredDag(
  layers: number,
  width: number,
  dependencies: { min: number; max: number },
  seed: number,
): Dag {
  const random = seededRandom(seed);
  const dag: number[][] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (let slot = 0; slot < width; slot++) {
      if (layer === 0) {
        dag.push([]);
        continue;
      }
      const wanted = dependencies.min + Math.floor(random() * (dependencies.max - dependencies.min + 1));
      const below = (layer - 1) * width;
      dag.push(pickDistinct(random, wanted, width).map((offset) => below + offset));
    }
  }
  return dag;
}

export function edgeCount(dag: Dag): number {
  return dag.reduce((sum, dependsOn) => sum + dependsOn.length, 0);
}

/** The longest chain of hook durations: the least time any scheduler needs to run them all. */
export function criticalPathMs(dag: Dag, durationsMs: readonly number[]): number {
  const finish: number[] = [];
  dag.forEach((dependsOn, index) => {
    finish[index] = Math.max(0, ...dependsOn.map((dependency) => finish[dependency])) + durationsMs[index];
  });
  return Math.max(0, ...finish);
}

/** Nodes grouped by depth (longest edge count from a node with no dependency). */
export function levels(dag: Dag): number[][] {
  const depth: number[] = [];
  const grouped: number[][] = [];
  dag.forEach((dependsOn, index) => {
    depth[index] =
      dependsOn.length === 0 ? 0 : Math.max(...dependsOn.map((dependency) => depth[dependency])) + 1;
    (grouped[depth[index]] ??= []).push(index);
  });
  return grouped;
}

/** What a scheduler that waits for a whole level before starting the next one would take. */
export function levelBarrierMs(dag: Dag, durationsMs: readonly number[]): number {
  return levels(dag).reduce((sum, level) => sum + Math.max(...level.map((index) => durationsMs[index])), 0);
}
