// Main-thread helpers shared by the worker pool suites.
import { join } from 'node:path';
import { defineWorkerTask } from '../../../lib/resources';
import { logMethod, type Log } from '../../../lib';
import type * as Tasks from './worker-pool-fixture-tasks';
import { RELEASED, STARTED } from './worker-pool-fixture-tasks';

const TASKS = join(__dirname, 'worker-pool-fixture-tasks.ts');

export const tasks = {
  add: defineWorkerTask<typeof Tasks.add>(TASKS, 'add'),
  describePoint: defineWorkerTask<typeof Tasks.describePoint>(TASKS, 'describePoint'),
  spinUntilReleased: defineWorkerTask<typeof Tasks.spinUntilReleased>(TASKS, 'spinUntilReleased'),
  failWith: defineWorkerTask<typeof Tasks.failWith>(TASKS, 'failWith'),
  throwNonError: defineWorkerTask<typeof Tasks.throwNonError>(TASKS, 'throwNonError'),
  returnUncloneable: defineWorkerTask<typeof Tasks.returnUncloneable>(TASKS, 'returnUncloneable'),
  exitThread: defineWorkerTask<typeof Tasks.exitThread>(TASKS, 'exitThread'),
  throwOutsideTheJob: defineWorkerTask<typeof Tasks.throwOutsideTheJob>(TASKS, 'throwOutsideTheJob'),
  notAFunction: defineWorkerTask<() => unknown>(TASKS, 'notAFunction'),
  missingModule: defineWorkerTask<() => unknown>(join(__dirname, 'no-such-module.ts'), 'anything'),
};

/** Two flags shared with a spinning task: it sets STARTED, the test sets RELEASED. */
export function newFlags(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

export function release(flags: Int32Array): void {
  Atomics.store(flags, RELEASED, 1);
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Turns the event loop until a spinning task has begun; jest's timeout bounds the wait. */
export async function untilSpinning(flags: Int32Array): Promise<void> {
  while (Atomics.load(flags, STARTED) === 0) await tick();
}

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: object;
  message: string;
}

/** A Log that keeps what it is given, so a test can read what the pool reported. */
export function recordingLog(records: LogRecord[] = []): Log & { records: LogRecord[] } {
  const at = (level: LogRecord['level']) =>
    logMethod((fields, message) => records.push({ level, fields, message }));
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => recordingLog(records),
  };
}

/** Worker threads hold one MessagePort each while they live: Node's own count of live workers. */
export function liveMessagePorts(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'MessagePort').length;
}
