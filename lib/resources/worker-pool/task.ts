import { isAbsolute } from 'node:path';
import { WorkerPoolError } from './errors';

/** Any function a worker can run; `never[]` admits every parameter list without `any`. */
export type WorkerFunction = (...args: never[]) => unknown;

declare const signature: unique symbol;

/** A function exported by a module, to be run in a worker; `F` types the call and its result. */
export interface WorkerTask<F extends WorkerFunction> {
  readonly modulePath: string;
  readonly exportName: string;
  /** Only carries `F` for type inference; never set. */
  readonly [signature]?: F;
}

/**
 * Names a task for `WorkerPoolResource.run`. Pass `require.resolve('./tasks')` as the path: it
 * resolves to `tasks.ts` under @swc-node/register or jest and to `tasks.js` in `dist/`.
 *
 * ```ts
 * import type { countPrimes } from './tasks';
 * const countPrimesTask = defineWorkerTask<typeof countPrimes>(require.resolve('./tasks'), 'countPrimes');
 * const n = await pool.run(countPrimesTask, 1_000_000); // n: number
 * ```
 */
export function defineWorkerTask<F extends WorkerFunction>(
  modulePath: string,
  exportName: string,
): WorkerTask<F> {
  if (!isAbsolute(modulePath)) {
    throw new WorkerPoolError(
      'WORKER_INVALID_TASK',
      `worker task '${exportName}' needs an absolute module path (use require.resolve), got '${modulePath}'`,
    );
  }
  return { modulePath, exportName };
}

export function describeTask(task: WorkerTask<WorkerFunction>): string {
  return `${task.exportName} (${task.modulePath})`;
}
