import {
  createMicroservice,
  GraphError,
  LifecycleError,
  Microservice,
  microservice,
  resource,
  task,
  taskTimer,
} from '../../../lib';
import { deferred, quietLog, until } from '../../support/async';

describe('tasks', () => {
  it('launch after the start phase, get an AbortSignal, and are aborted and awaited before any resource stops', async () => {
    const journal: string[] = [];
    const launched = deferred<void>();
    @resource()
    class Queue {
      start = () => journal.push('queue:start');
      stop = () => journal.push('queue:stop');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { queue: Queue } })
    class Service extends Microservice {
      @task()
      async consume(signal: AbortSignal): Promise<void> {
        journal.push('task:begin');
        launched.resolve();
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        await new Promise((resolve) => setTimeout(resolve, 5));
        journal.push('task:end');
      }
    }
    const app = await createMicroservice(Service, { log: quietLog() });
    await app.start();
    await launched.promise;
    await app.stop();
    expect(journal).toEqual(['queue:start', 'task:begin', 'task:end', 'queue:stop']);
  });

  it('logs a failing task by name and keeps the service running', async () => {
    const records: { level: string; message: string; fields: object }[] = [];
    @microservice({ defaultResources: false, name: 'svc' })
    class Service extends Microservice {
      @task()
      async flaky(): Promise<void> {
        throw new Error('lost the broker');
      }
    }
    const app = await createMicroservice(Service, { log: quietLog(records) });
    await app.start();
    await until(() => records.some((record) => record.level === 'error'));
    expect(records.find((record) => record.level === 'error')!.message).toBe(
      'task flaky failed: lost the broker',
    );
    expect(app.status().state).toBe('running');
    await app.stop();
  });

  it('stops the service with exit code 2 when a critical task fails', async () => {
    const journal: string[] = [];
    @resource()
    class Db {
      stop = () => journal.push('db:stop');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { db: Db } })
    class Service extends Microservice {
      @task({ critical: true })
      async heartbeat(): Promise<void> {
        throw new Error('heart stopped');
      }
    }
    const app = await createMicroservice(Service, { log: quietLog() });
    // The task fails as it launches, maybe before postStart ends: a stop asked for then cancels the start.
    await app.start().catch((error: LifecycleError) => expect(error.code).toBe('START_CANCELLED'));
    expect(await app.stopped).toEqual({
      exitCode: 2,
      reason: 'critical task heartbeat failed: heart stopped',
    });
    expect(journal).toEqual(['db:stop']);
  });

  it('runs a timer task on schedule, never overlapping itself, and goes on after a failing run', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    const records: { level: string; message: string; fields: object }[] = [];
    @microservice({ defaultResources: false, name: 'svc' })
    class Service extends Microservice {
      @taskTimer({ interval: 5, autostart: true })
      async tick(): Promise<void> {
        runs++;
        overlapped ||= running > 0;
        running++;
        // Each run lasts longer than the interval: the next run must wait for this one.
        await new Promise((resolve) => setTimeout(resolve, 12));
        running--;
        if (runs === 2) throw new Error('second run fails');
      }
    }
    const app = await createMicroservice(Service, { log: quietLog(records) });
    await app.start();
    await until(() => runs >= 5, 5000, 'five runs');
    await app.stop();
    expect(overlapped).toBe(false);
    expect(records.filter((record) => record.level === 'error').map((record) => record.message)).toEqual([
      'task tick failed: second run fails',
    ]);
  });

  it('runs a one-shot timer exactly once, one interval after launch unless autostart', async () => {
    const journal: string[] = [];
    @microservice({ defaultResources: false, name: 'svc' })
    class Service extends Microservice {
      @taskTimer({ interval: 5, oneShot: true })
      once(): void {
        journal.push('once');
      }

      @taskTimer({ interval: 5 })
      repeated(): void {
        journal.push('repeated');
      }
    }
    const app = await createMicroservice(Service, { log: quietLog() });
    await app.start();
    expect(journal).toEqual([]);
    await until(() => journal.filter((entry) => entry === 'repeated').length >= 3);
    await app.stop();
    expect(journal.filter((entry) => entry === 'once')).toEqual(['once']);
  });

  it('rejects a timer without a positive interval', () => {
    expect(() => taskTimer({ interval: 0 })).toThrow(
      '@taskTimer interval must be a positive number of ms, got 0',
    );
  });

  it('refuses @task and @taskTimer on a resource with a graph error, before any constructor runs', async () => {
    const constructed: string[] = [];
    @resource()
    class Poller {
      constructor() {
        constructed.push('poller');
      }
      @taskTimer({ interval: 100 })
      async poll(): Promise<void> {}
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { poller: Poller } })
    class Service extends Microservice {}
    const created = createMicroservice(Service, { log: quietLog() });
    await expect(created).rejects.toBeInstanceOf(GraphError);
    await expect(created).rejects.toMatchObject({
      code: 'MISPLACED_TASK',
      message: expect.stringContaining(
        "svc → poller: resource 'poller' declares @task/@taskTimer (poll)",
      ) as unknown,
    });
    expect(constructed).toEqual([]);
  });

  it('refuses two tasks of one name, naming both methods', async () => {
    @microservice({ defaultResources: false, name: 'svc' })
    class Service extends Microservice {
      @task({ name: 'sync' })
      async pull(): Promise<void> {}
      @task({ name: 'sync' })
      async push(): Promise<void> {}
    }
    await expect(createMicroservice(Service, { log: quietLog() })).rejects.toMatchObject({
      code: 'DUPLICATE_NAME',
      message: expect.stringContaining("two tasks are named 'sync' (methods pull and push)") as unknown,
    });
  });

  it('refuses a task_stop_share outside 0 to 1, naming the setting', async () => {
    @microservice({ defaultResources: false, name: 'svc' })
    class Service extends Microservice {}
    for (const share of [0, 1, 1.5, -0.2]) {
      await expect(
        createMicroservice(Service, {
          log: quietLog(),
          settings: { system: { lifecycle: { task_stop_share: share } } },
        }),
      ).rejects.toMatchObject({
        code: 'SETTINGS_INVALID',
        message: expect.stringContaining('system.lifecycle.task_stop_share') as unknown,
      });
    }
  });

  it('stops the resources when a task ignores its abort, failing the stop with the task named', async () => {
    const journal: string[] = [];
    // Ends the task once the test is done with it: the task itself never looks at its signal.
    let released = false;
    @resource()
    class Store {
      stop = () => journal.push('store:stop');
    }
    @microservice({ defaultResources: false, name: 'svc', resources: { store: Store } })
    class Service extends Microservice {
      @task()
      async spin(): Promise<void> {
        while (!released) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    const app = await createMicroservice(Service, {
      log: quietLog(),
      settings: { system: { lifecycle: { stop_timeout_ms: 200, task_stop_share: 0.25 } } },
    });
    await app.start();
    await expect(app.stop()).rejects.toMatchObject({
      code: 'STOP_FAILED',
      message: expect.stringContaining(
        'task(s) spin still running 50 ms after their AbortSignal fired',
      ) as unknown,
    });
    expect(journal).toEqual(['store:stop']);
    expect(app.pendingHooks()).toEqual(['task spin']);
    released = true;
  });
});
