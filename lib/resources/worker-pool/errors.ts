import type { RemoteError } from './protocol';

export type WorkerPoolErrorCode =
  | 'WORKER_POOL_NOT_STARTED'
  | 'WORKER_POOL_INVALID_STATE'
  | 'WORKER_POOL_STOPPED'
  | 'WORKER_QUEUE_FULL'
  | 'WORKER_START_FAILED'
  | 'WORKER_CRASHED'
  | 'WORKER_NONE_LEFT'
  | 'WORKER_JOB_TERMINATED'
  | 'WORKER_DATA_CLONE'
  | 'WORKER_INVALID_TASK'
  | 'WORKER_TASK_FAILED';

/** Every rejection from a worker pool: the job never ran, was cut off, or its worker died. */
export class WorkerPoolError extends Error {
  override readonly name: string = 'WorkerPoolError';

  constructor(
    readonly code: WorkerPoolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The task itself threw in its worker: message and stack are the worker's own. */
export class WorkerTaskError extends WorkerPoolError {
  override readonly name: string = 'WorkerTaskError';
  /** The thrown error's own name and `code` (if it had a string one), e.g. `RangeError`, `ENOENT`. */
  readonly remoteName: string;
  readonly remoteCode?: string;

  constructor(
    readonly task: string,
    remote: RemoteError,
  ) {
    super('WORKER_TASK_FAILED', remote.message);
    this.remoteName = remote.name;
    this.remoteCode = remote.code;
    this.stack = remote.stack ?? `${remote.name}: ${remote.message}`;
  }
}
