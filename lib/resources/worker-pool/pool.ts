import { extname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { messageOf } from '../../util';
import type { Log } from '../../lifecycle/log';
import { WorkerPoolError, WorkerTaskError } from './errors';
import { TYPESCRIPT_MODULE, type JobMessage, type WorkerBootData, type WorkerReply } from './protocol';
import { describeTask, type WorkerFunction, type WorkerTask } from './task';

export interface WorkerPoolOptions {
  /** Worker threads kept alive; each runs one job at a time. */
  size: number;
  /** Jobs that may wait for a free worker; one more is rejected with WORKER_QUEUE_FULL. */
  maxQueue: number;
  /** How long stop() lets accepted jobs finish before it terminates the workers. */
  stopTimeoutMs: number;
  log: Log;
}

export type WorkerPoolState = 'created' | 'starting' | 'running' | 'draining' | 'stopped';

export interface WorkerPoolStats {
  state: WorkerPoolState;
  size: number;
  /** Live worker threads, replacements included. */
  threadIds: number[];
  busy: number;
  queued: number;
  /** Jobs resolved with a value. */
  completed: number;
  /** Accepted jobs that were rejected: the task threw, its worker died, or stop cut it off. */
  failed: number;
  /** Workers that died unexpectedly (and were replaced). */
  crashed: number;
}

interface Job {
  message: JobMessage;
  label: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  threadId: number;
  ready: boolean;
  job?: Job;
  /** The uncaught error taking the worker down: 'error' is emitted before 'exit'. */
  crash?: Error;
}

// Beside this file in every build: worker-entry.js beside the bundle in dist/lib, worker-entry.ts under @swc-node/register and jest.
const ENTRY = join(__dirname, `worker-entry${extname(__filename)}`);

/**
 * A fixed number of worker threads running exported functions of CommonJS modules, one job per
 * worker at a time, with a bounded FIFO queue in front. Every accepted job settles: with its value,
 * its task's error, or a WorkerPoolError saying why it could not finish.
 */
export class WorkerPool {
  private state: WorkerPoolState = 'created';
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private readonly boot: WorkerBootData;
  private readonly execArgv?: string[];
  private nextJobId = 1;
  private completed = 0;
  private failed = 0;
  private crashed = 0;
  /** Set once stop gives up waiting: exits from then on are ours, not crashes. */
  private terminating = false;
  private onDrained?: () => void;
  private stopRun?: Promise<void>;

  constructor(private readonly options: WorkerPoolOptions) {
    const typescriptRegister = resolveTypescriptRegister();
    this.boot = { typescriptRegister };
    // Only a development entry (.ts) needs the hook before it loads; compiled workers inherit the process's flags.
    if (TYPESCRIPT_MODULE.test(ENTRY) && typescriptRegister !== undefined)
      this.execArgv = ['--require', typescriptRegister];
  }

  /** Starts every worker and waits until each has loaded its entry script. */
  async start(): Promise<void> {
    if (this.state !== 'created') {
      throw new WorkerPoolError(
        'WORKER_POOL_INVALID_STATE',
        `a worker pool starts once; this one is ${this.state}`,
      );
    }
    this.state = 'starting';
    try {
      await Promise.all(Array.from({ length: this.options.size }, () => this.spawn()));
    } catch (error) {
      this.terminating = true;
      this.state = 'stopped';
      await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
      if (error instanceof WorkerPoolError) throw error;
      throw new WorkerPoolError('WORKER_START_FAILED', `worker pool could not start: ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (this.state === 'starting') this.state = 'running';
    this.options.log.debug(
      { threadIds: this.threadIds() },
      `worker pool started ${this.options.size} workers`,
    );
  }

  run<F extends WorkerFunction>(
    task: WorkerTask<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    const label = describeTask(task);
    const refusal = this.refusal(label);
    if (refusal !== undefined) return Promise.reject(refusal);
    const result = new Promise<unknown>((resolve, reject) => {
      const job: Job = {
        message: { id: this.nextJobId++, modulePath: task.modulePath, exportName: task.exportName, args },
        label,
        resolve: (value) => {
          this.completed += 1;
          resolve(value);
        },
        reject: (error) => {
          this.failed += 1;
          reject(error);
        },
      };
      const slot = this.idleSlot();
      if (slot === undefined) this.queue.push(job);
      else this.dispatch(slot, job);
    });
    return result as Promise<Awaited<ReturnType<F>>>;
  }

  /**
   * Refuses new jobs, lets accepted ones (running and queued) finish for up to `stopTimeoutMs`,
   * then terminates every worker; jobs still unfinished reject with WORKER_JOB_TERMINATED.
   */
  stop(): Promise<void> {
    this.stopRun ??= this.drainAndTerminate();
    return this.stopRun;
  }

  stats(): WorkerPoolStats {
    return {
      state: this.state,
      size: this.options.size,
      threadIds: this.threadIds(),
      busy: this.busyCount(),
      queued: this.queue.length,
      completed: this.completed,
      failed: this.failed,
      crashed: this.crashed,
    };
  }

  private refusal(label: string): WorkerPoolError | undefined {
    if (this.state === 'created' || this.state === 'starting') {
      return new WorkerPoolError(
        'WORKER_POOL_NOT_STARTED',
        `cannot run ${label}: the worker pool has not started`,
      );
    }
    if (this.state !== 'running') {
      return new WorkerPoolError(
        'WORKER_POOL_STOPPED',
        `cannot run ${label}: the worker pool is ${this.state}`,
      );
    }
    if (this.slots.size === 0) {
      return new WorkerPoolError(
        'WORKER_NONE_LEFT',
        `cannot run ${label}: every worker died and none could be replaced`,
      );
    }
    if (this.idleSlot() === undefined && this.queue.length >= this.options.maxQueue) {
      return new WorkerPoolError(
        'WORKER_QUEUE_FULL',
        `cannot run ${label}: ${this.queue.length} jobs already wait for a worker (max_queue ${this.options.maxQueue})`,
      );
    }
    return undefined;
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Required here: node:worker_threads (with its messaging modules) for services that start a pool only.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
      const worker = new Worker(ENTRY, { workerData: this.boot, execArgv: this.execArgv });
      const slot: Slot = { worker, threadId: worker.threadId, ready: false };
      this.slots.add(slot);
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'result') return this.finish(slot, (job) => job.resolve(reply.value));
        if (reply.type === 'error') {
          return this.finish(slot, (job) => job.reject(new WorkerTaskError(job.label, reply.error)));
        }
        slot.ready = true;
        resolve();
        this.pump();
      });
      worker.on('messageerror', (error) =>
        this.finish(slot, (job) =>
          job.reject(
            new WorkerPoolError(
              'WORKER_DATA_CLONE',
              `result of ${job.label} could not be received: ${error.message}`,
              { cause: error },
            ),
          ),
        ),
      );
      worker.on('error', (error) => (slot.crash = error));
      worker.on('exit', (exitCode) => {
        this.slots.delete(slot);
        if (slot.ready) return this.lost(slot, exitCode);
        const death = describeDeath(slot, exitCode);
        reject(
          new WorkerPoolError(
            'WORKER_START_FAILED',
            `worker thread ${slot.threadId} failed to start: ${death}`,
            { cause: slot.crash },
          ),
        );
      });
    });
  }

  /** Frees the slot, settles the job it was running, and hands it the next queued one. */
  private finish(slot: Slot, settle: (job: Job) => void): void {
    const job = slot.job;
    slot.job = undefined;
    if (job !== undefined) settle(job);
    this.pump();
  }

  /** A worker that had started exited: a crash to recover from, unless stop is terminating it. */
  private lost(slot: Slot, exitCode: number): void {
    const job = slot.job;
    if (this.terminating) {
      job?.reject(
        new WorkerPoolError(
          'WORKER_JOB_TERMINATED',
          `${job.label} was terminated: the worker pool stopped and did not finish it within stop_timeout_ms (${this.options.stopTimeoutMs})`,
        ),
      );
      return;
    }
    this.crashed += 1;
    const death = describeDeath(slot, exitCode);
    this.options.log.error(
      { threadId: slot.threadId, exitCode, err: slot.crash, job: job?.label },
      `worker thread ${slot.threadId} died (${death}); starting a replacement`,
    );
    job?.reject(
      new WorkerPoolError(
        'WORKER_CRASHED',
        `worker thread ${slot.threadId} died while running ${job.label}: ${death}`,
        { cause: slot.crash },
      ),
    );
    this.spawn().catch((error: unknown) => this.replacementFailed(error));
  }

  private replacementFailed(error: unknown): void {
    if (this.terminating) return;
    this.options.log.error({ err: error }, `could not replace a dead worker: ${messageOf(error)}`);
    if (this.slots.size > 0) return;
    for (const job of this.queue.splice(0)) {
      job.reject(
        new WorkerPoolError(
          'WORKER_NONE_LEFT',
          `${job.label} cannot run: every worker died and none could be replaced`,
          { cause: error },
        ),
      );
    }
    this.pump();
  }

  private dispatch(slot: Slot, job: Job): void {
    try {
      slot.worker.postMessage(job.message);
      slot.job = job;
    } catch (error) {
      job.reject(
        new WorkerPoolError(
          'WORKER_DATA_CLONE',
          `arguments of ${job.label} cannot be sent to a worker: ${messageOf(error)}`,
          { cause: error },
        ),
      );
    }
  }

  /** Hands queued jobs to idle workers, and tells a waiting stop when nothing is left. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.idleSlot();
      if (slot === undefined) break;
      this.dispatch(slot, this.queue.shift() as Job);
    }
    if (this.onDrained !== undefined && this.queue.length === 0 && this.busyCount() === 0) this.onDrained();
  }

  private async drainAndTerminate(): Promise<void> {
    if (this.state === 'created') {
      this.state = 'stopped';
      return;
    }
    this.state = 'draining';
    if (this.queue.length + this.busyCount() > 0 && !(await this.drained())) {
      this.options.log.warn(
        { busy: this.busyCount(), queued: this.queue.length },
        `worker pool did not drain within ${this.options.stopTimeoutMs} ms: terminating its workers`,
      );
    }
    this.terminating = true;
    for (const job of this.queue.splice(0)) {
      job.reject(
        new WorkerPoolError('WORKER_JOB_TERMINATED', `${job.label} never ran: the worker pool stopped first`),
      );
    }
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
    this.state = 'stopped';
  }

  /** Resolves true once every accepted job has settled, false if stop_timeout_ms runs out first. */
  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (drained: boolean): void => {
        clearTimeout(timer);
        this.onDrained = undefined;
        resolve(drained);
      };
      const timer = setTimeout(() => finish(false), this.options.stopTimeoutMs);
      this.onDrained = () => finish(true);
    });
  }

  private idleSlot(): Slot | undefined {
    for (const slot of this.slots) if (slot.ready && slot.job === undefined) return slot;
    return undefined;
  }

  private busyCount(): number {
    let busy = 0;
    for (const slot of this.slots) if (slot.job !== undefined) busy += 1;
    return busy;
  }

  private threadIds(): number[] {
    return [...this.slots].map((slot) => slot.threadId);
  }
}

function describeDeath(slot: Slot, exitCode: number): string {
  return slot.crash === undefined ? `exit code ${exitCode}` : `${slot.crash.name}: ${slot.crash.message}`;
}

/** The TypeScript hook workers load for .ts modules; absent in a production install, which runs .js. */
function resolveTypescriptRegister(): string | undefined {
  try {
    return require.resolve('@swc-node/register');
  } catch {
    return undefined;
  }
}
