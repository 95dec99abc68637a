import { availableParallelism } from 'node:os';
import { inject } from '../../container/injection';
import { resource } from '../../container/decorators';
import { LOGGER, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { OnStart, OnStop } from '../../lifecycle/status';
import { defineSettings, type SettingsOf } from '../../settings/schema';
import type { SettingsView } from '../../settings/types';
import { WorkerPool } from './pool';

export { WorkerPoolError, WorkerTaskError, type WorkerPoolErrorCode } from './errors';
export type { WorkerPoolState, WorkerPoolStats } from './pool';
export { defineWorkerTask, type WorkerFunction, type WorkerTask } from './task';

function positiveInteger(value: unknown): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 1) throw new Error('must be an integer >= 1');
}

/** Settings of `system.resources.<name>` for a WorkerPoolResource. */
export const workerPoolSchema = defineSettings({
  size: {
    doc: 'Worker threads in the pool; the default leaves one core to the event loop',
    format: positiveInteger,
    default: Math.max(1, availableParallelism() - 1),
  },
  max_queue: {
    doc: 'Jobs that may wait for a free worker; a job beyond it is rejected with WORKER_QUEUE_FULL',
    format: 'nat',
    default: 1000,
  },
  stop_timeout_ms: {
    doc: 'How long stop lets accepted jobs finish before terminating the workers (keep it under hook_timeout_ms)',
    format: 'duration',
    default: 10_000,
  },
});

export type WorkerPoolSettings = SettingsOf<typeof workerPoolSchema>;

/**
 * CPU-bound work off the event loop: a fixed pool of worker threads started with the service and
 * terminated with it. Run a module's exported function with `run(defineWorkerTask(...), ...args)`.
 */
@resource({ settings: workerPoolSchema })
export class WorkerPoolResource extends WorkerPool implements OnStart, OnStop {
  constructor(@inject(SETTINGS) settings: SettingsView<WorkerPoolSettings>, @inject(LOGGER) log: Log) {
    const { size, max_queue, stop_timeout_ms } = settings.value();
    super({ size, maxQueue: max_queue, stopTimeoutMs: stop_timeout_ms, log });
  }
}
