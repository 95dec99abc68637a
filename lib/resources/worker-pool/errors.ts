import { KeelError, type CodesOf } from '../../errors';
import type { RemoteError } from './protocol';

export type WorkerPoolErrorCode = CodesOf<'WorkerPoolError' | 'WorkerTaskError'>;

/** Every rejection from a worker pool: the job never ran, was cut off, or its worker died. */
export class WorkerPoolError extends KeelError {
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
