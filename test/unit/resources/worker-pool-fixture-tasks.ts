// Tasks run by the worker pool tests, inside worker threads.
import { threadId } from 'node:worker_threads';

export const STARTED = 0;
export const RELEASED = 1;

export function add(a: number, b: number): number {
  return a + b;
}

export async function describePoint(point: {
  x: number;
  y: number;
}): Promise<{ sum: number; threadId: number }> {
  await new Promise((resolve) => setImmediate(resolve));
  return { sum: point.x + point.y, threadId };
}

/**
 * CPU-bound on purpose: never yields, only spins until the main thread sets `flags[RELEASED]`.
 * If it ran on the main thread, the main thread could never release it.
 */
export function spinUntilReleased(
  flags: Int32Array,
  result = 'released',
): { result: string; threadId: number; spins: number } {
  Atomics.store(flags, STARTED, 1);
  let spins = 0;
  while (Atomics.load(flags, RELEASED) === 0) spins += 1;
  return { result, threadId, spins };
}

export function failWith(message: string, code?: string): never {
  throw Object.assign(new RangeError(message), code === undefined ? {} : { code });
}

export function throwNonError(): never {
  throw 'a plain string';
}

export function returnUncloneable(): () => number {
  return () => 1;
}

export function exitThread(code: number): never {
  process.exit(code);
}

export function throwOutsideTheJob(): Promise<never> {
  return new Promise(() =>
    setImmediate(() => {
      throw new Error('uncaught in a worker callback');
    }),
  );
}

export const notAFunction = 42;
