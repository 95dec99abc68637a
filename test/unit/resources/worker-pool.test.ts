import { threadId as mainThreadId } from 'node:worker_threads';
import { defineWorkerTask, WorkerPoolError, WorkerTaskError } from '../../../lib/resources';
import { WorkerPool, type WorkerPoolOptions } from '../../../lib/resources/worker-pool/pool';
import {
  liveMessagePorts,
  newFlags,
  recordingLog,
  release,
  tasks,
  tick,
  untilSpinning,
  type LogRecord,
} from './worker-pool-helpers';

jest.setTimeout(30_000);

const pools: WorkerPool[] = [];
let records: LogRecord[];

async function startedPool(options: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
  const pool = new WorkerPool({
    size: 1,
    maxQueue: 10,
    stopTimeoutMs: 10_000,
    log: recordingLog(records),
    ...options,
  });
  pools.push(pool);
  await pool.start();
  return pool;
}

async function rejection(promise: Promise<unknown>): Promise<WorkerPoolError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WorkerPoolError);
  return error as WorkerPoolError;
}

// Starting a worker under the TypeScript hook is the slow part: tests that leave no trace on a
// worker share this one.
let shared: WorkerPool;

beforeAll(async () => {
  shared = new WorkerPool({ size: 1, maxQueue: 10, stopTimeoutMs: 10_000, log: recordingLog() });
  await shared.start();
});

afterAll(() => shared.stop());

beforeEach(() => {
  records = [];
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop()));
});

describe('WorkerPool runs jobs in worker threads', () => {
  it('runs a CPU-bound job on another thread while the event loop keeps turning', async () => {
    const pool = shared;
    const flags = newFlags();
    let settled = false;
    const job = pool.run(tasks.spinUntilReleased, flags).finally(() => (settled = true));

    await untilSpinning(flags);
    let ticksWhileSpinning = 0;
    for (; ticksWhileSpinning < 5; ticksWhileSpinning += 1) {
      expect(settled).toBe(false);
      await tick();
    }
    release(flags);
    const outcome = await job;

    expect(ticksWhileSpinning).toBe(5);
    expect(outcome.result).toBe('released');
    expect(outcome.spins).toBeGreaterThan(0);
    expect(outcome.threadId).not.toBe(mainThreadId);
    expect(pool.stats().threadIds).toContain(outcome.threadId);
  });

  it('passes arguments and results by structured clone, awaiting async tasks', async () => {
    const pool = shared;
    const before = pool.stats();
    const sum: number = await pool.run(tasks.add, 2, 3);
    const point = await pool.run(tasks.describePoint, { x: 4, y: 5 });

    expect(sum).toBe(5);
    expect(point.sum).toBe(9);
    expect(point.threadId).not.toBe(mainThreadId);
    expect(pool.stats()).toMatchObject({
      completed: before.completed + 2,
      failed: before.failed,
      busy: 0,
      queued: 0,
    });
  });

  it('spreads concurrent jobs over every worker', async () => {
    const pool = await startedPool({ size: 2 });
    const flags = [newFlags(), newFlags()];
    const jobs = flags.map((shared) => pool.run(tasks.spinUntilReleased, shared));
    // Both spin at once: with one thread the second would never start before the first is released.
    await Promise.all(flags.map(untilSpinning));
    flags.forEach(release);
    const threads = (await Promise.all(jobs)).map((outcome) => outcome.threadId);

    expect(new Set(threads).size).toBe(2);
    expect(pool.stats().threadIds.sort()).toEqual([...threads].sort());
  });

  it('types a task from the function it names', async () => {
    const pool = shared;
    // @ts-expect-error add takes numbers: the handle carries the signature
    const wrongArgument = pool.run(tasks.add, 'two', 3);

    expect(await wrongArgument).toBe('two3');
  });
});

describe('WorkerPool reports failures', () => {
  it("rejects with the worker's message and stack when a task throws", async () => {
    const pool = shared;
    const error = await rejection(pool.run(tasks.failWith, 'bad input', 'EBADINPUT'));

    expect(error).toBeInstanceOf(WorkerTaskError);
    expect(error.code).toBe('WORKER_TASK_FAILED');
    expect(error.message).toBe('bad input');
    expect(error.stack).toMatch(/^RangeError: bad input\n/);
    expect(error.stack).toContain('worker-pool-fixture-tasks.ts');
    expect((error as WorkerTaskError).remoteName).toBe('RangeError');
    expect((error as WorkerTaskError).remoteCode).toBe('EBADINPUT');
    expect((error as WorkerTaskError).task).toContain('failWith');
  });

  it('reports a thrown non-Error, a missing export, a missing module and an uncloneable result', async () => {
    const pool = shared;
    const before = pool.stats();

    expect((await rejection(pool.run(tasks.throwNonError))).message).toBe('non-Error thrown: a plain string');
    const notAFunction = await rejection(pool.run(tasks.notAFunction));
    expect(notAFunction.message).toContain("no function export named 'notAFunction' (found number)");
    const missing = await rejection(pool.run(tasks.missingModule));
    expect(missing.code).toBe('WORKER_TASK_FAILED');
    expect(missing.message).toContain('no-such-module.ts');
    const uncloneable = await rejection(pool.run(tasks.returnUncloneable));
    expect(uncloneable.code).toBe('WORKER_TASK_FAILED');
    expect((uncloneable as WorkerTaskError).remoteName).toBe('DataCloneError');

    expect(await pool.run(tasks.add, 1, 1)).toBe(2);
    expect(pool.stats()).toMatchObject({
      completed: before.completed + 1,
      failed: before.failed + 4,
      crashed: 0,
      threadIds: before.threadIds,
    });
  });

  it('rejects arguments that cannot be sent to a worker and keeps the worker', async () => {
    const pool = shared;
    const uncloneable = () => 1;
    const error = await rejection(pool.run(tasks.describePoint, uncloneable as never));

    expect(error.code).toBe('WORKER_DATA_CLONE');
    expect(await pool.run(tasks.add, 2, 2)).toBe(4);
  });

  it('asks for an absolute module path', () => {
    expect(() => defineWorkerTask<() => void>('./tasks', 'run')).toThrow(
      expect.objectContaining({ code: 'WORKER_INVALID_TASK' }),
    );
  });
});

describe('WorkerPool replaces workers that die', () => {
  it('rejects the job of a worker that exits and runs the next job on a replacement', async () => {
    const pool = await startedPool();
    const [first] = pool.stats().threadIds;
    const error = await rejection(pool.run(tasks.exitThread, 7));

    expect(error.code).toBe('WORKER_CRASHED');
    expect(error.message).toContain(`worker thread ${first} died while running exitThread`);
    expect(error.message).toContain('exit code 7');
    const next = await pool.run(tasks.describePoint, { x: 1, y: 1 });
    expect(next.threadId).not.toBe(first);
    expect(pool.stats()).toMatchObject({ crashed: 1, threadIds: [next.threadId] });
    expect(
      records.some((record) => record.level === 'error' && record.message.includes('starting a replacement')),
    ).toBe(true);
  });

  it('rejects with the uncaught error that killed the worker', async () => {
    const pool = await startedPool();
    const error = await rejection(pool.run(tasks.throwOutsideTheJob));

    expect(error.code).toBe('WORKER_CRASHED');
    expect(error.message).toContain('Error: uncaught in a worker callback');
    expect((error.cause as Error).message).toBe('uncaught in a worker callback');
  });

  it('keeps the queue through a crash: queued jobs run on the replacement', async () => {
    const pool = await startedPool({ size: 1 });
    const crash = pool.run(tasks.exitThread, 1);
    const queued = [pool.run(tasks.add, 1, 2), pool.run(tasks.add, 3, 4)];

    expect((await rejection(crash)).code).toBe('WORKER_CRASHED');
    expect(await Promise.all(queued)).toEqual([3, 7]);
  });
});

describe('WorkerPool bounds its queue', () => {
  it('queues up to max_queue jobs behind busy workers and rejects the next', async () => {
    const pool = await startedPool({ size: 1, maxQueue: 1 });
    const flags = newFlags();
    const running = pool.run(tasks.spinUntilReleased, flags, 'first');
    const queued = pool.run(tasks.add, 20, 22);
    const refused = await rejection(pool.run(tasks.add, 0, 0));

    expect(refused.code).toBe('WORKER_QUEUE_FULL');
    expect(refused.message).toContain('max_queue 1');
    expect(pool.stats()).toMatchObject({ busy: 1, queued: 1 });
    release(flags);
    expect((await running).result).toBe('first');
    expect(await queued).toBe(42);
  });

  it('with max_queue 0 accepts only what idle workers can take', async () => {
    const pool = await startedPool({ size: 1, maxQueue: 0 });
    const flags = newFlags();
    const running = pool.run(tasks.spinUntilReleased, flags);

    expect((await rejection(pool.run(tasks.add, 1, 1))).code).toBe('WORKER_QUEUE_FULL');
    release(flags);
    await running;
    expect(await pool.run(tasks.add, 1, 1)).toBe(2);
  });
});

describe('WorkerPool lifecycle', () => {
  it('refuses jobs before start and a second start', async () => {
    const pool = new WorkerPool({ size: 1, maxQueue: 1, stopTimeoutMs: 1000, log: recordingLog(records) });
    pools.push(pool);

    expect((await rejection(pool.run(tasks.add, 1, 1))).code).toBe('WORKER_POOL_NOT_STARTED');
    await pool.start();
    expect((await rejection(pool.start())).code).toBe('WORKER_POOL_INVALID_STATE');
  });

  it('lets running and queued jobs finish on stop, refusing new ones meanwhile', async () => {
    const pool = await startedPool({ size: 1 });
    const flags = newFlags();
    const running = pool.run(tasks.spinUntilReleased, flags, 'finished during stop');
    const queued = pool.run(tasks.add, 1, 2);
    await untilSpinning(flags);

    let stopped = false;
    const stopping = pool.stop().then(() => (stopped = true));
    const late = await rejection(pool.run(tasks.add, 1, 1));
    expect(late.code).toBe('WORKER_POOL_STOPPED');
    for (let turn = 0; turn < 5; turn += 1) await tick();
    expect(stopped).toBe(false);
    expect(pool.stats().state).toBe('draining');

    release(flags);
    expect((await running).result).toBe('finished during stop');
    expect(await queued).toBe(3);
    await stopping;
    expect(pool.stats()).toMatchObject({ state: 'stopped', threadIds: [], busy: 0, queued: 0 });
  });

  it('terminates jobs still unfinished when stop_timeout_ms runs out', async () => {
    const pool = await startedPool({ size: 1, stopTimeoutMs: 50 });
    const flags = newFlags();
    const running = pool.run(tasks.spinUntilReleased, flags);
    const queued = pool.run(tasks.add, 1, 2);
    await untilSpinning(flags);

    const outcomes = Promise.all([rejection(running), rejection(queued)]);
    await pool.stop();
    const [cutOff, neverRan] = await outcomes;

    expect(cutOff.code).toBe('WORKER_JOB_TERMINATED');
    expect(cutOff.message).toContain('stop_timeout_ms (50)');
    expect(neverRan.code).toBe('WORKER_JOB_TERMINATED');
    expect(neverRan.message).toContain('never ran');
    expect(pool.stats()).toMatchObject({ state: 'stopped', threadIds: [], crashed: 0 });
    expect(
      records.some((record) => record.level === 'warn' && record.message.includes('did not drain')),
    ).toBe(true);
  });

  it('ends its threads on stop', async () => {
    const before = liveMessagePorts();
    const pool = await startedPool({ size: 2 });
    expect(liveMessagePorts()).toBe(before + 2);

    await pool.stop();
    expect(liveMessagePorts()).toBe(before);
    expect((await rejection(pool.run(tasks.add, 1, 1))).code).toBe('WORKER_POOL_STOPPED');
  });
});
