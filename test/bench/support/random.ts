/**
 * mulberry32: a fixed seed gives the same graph on every run and every machine, so runs compare.
 * Math.random cannot be seeded.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct integers in [0, bound), or all of them when bound <= count. */
export function pickDistinct(random: () => number, count: number, bound: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, bound)) picked.add(Math.floor(random() * bound));
  return [...picked].sort((a, b) => a - b);
}
