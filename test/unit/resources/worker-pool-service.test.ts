import { availableParallelism } from 'node:os';
import { createMicroservice, Microservice, microservice, ResourceStatus, type App } from '../../../lib';
import { WorkerPoolResource, type WorkerPoolError } from '../../../lib/resources';
import { PrimeCounter, WorkersService } from '../../../samples/workers/service';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { liveMessagePorts, newFlags, tasks, untilSpinning } from './worker-pool-helpers';

jest.setTimeout(60_000);

@microservice({ name: 'pool_owner', resources: { pool: WorkerPoolResource } })
class PoolOwner extends Microservice {}

// Every service gets a report server; tests put it on a free port, never on 5747.
const REPORT_SERVER_ON_FREE_PORT = { report_server: { port: 0 } };

const apps: App[] = [];
const processes: ServiceProcess[] = [];

async function create(
  Service: typeof PoolOwner | typeof WorkersService,
  resources: object = {},
): Promise<App> {
  const settings = { system: { resources: { ...REPORT_SERVER_ON_FREE_PORT, ...resources } } };
  const app = await createMicroservice(Service, { settings, env: {} });
  apps.push(app);
  return app;
}

afterEach(async () => {
  killAll(processes.splice(0));
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

describe('WorkerPoolResource in a service', () => {
  it('starts its workers with the service and ends them when the service stops', async () => {
    const before = liveMessagePorts();
    const app = await create(WorkersService, { workers: { size: 2 } });
    const pool = app.get(WorkerPoolResource);
    expect(liveMessagePorts()).toBe(before);

    await app.start();
    expect(liveMessagePorts()).toBe(before + 2);
    expect(pool.stats()).toMatchObject({ state: 'running', size: 2 });
    expect(app.status().resources.find((row) => row.name === 'workers')?.status).toBe(ResourceStatus.STARTED);
    expect(await app.get(PrimeCounter).count(1000)).toBe(168);

    await app.stop();
    expect(liveMessagePorts()).toBe(before);
    expect(pool.stats()).toMatchObject({ state: 'stopped', threadIds: [] });
    expect(app.status().resources.find((row) => row.name === 'workers')?.status).toBe(ResourceStatus.STOPPED);
  });

  it('takes its bounds from system.resources.<name>', async () => {
    const app = await create(PoolOwner, { pool: { size: 1, max_queue: 0, stop_timeout_ms: 50 } });
    await app.start();
    const pool = app.get(WorkerPoolResource);
    const flags = newFlags();
    const running = pool.run(tasks.spinUntilReleased, flags);
    const cutOff = running.catch((error: WorkerPoolError) => error.code);
    await untilSpinning(flags);

    const refused = await pool.run(tasks.add, 1, 1).catch((error: WorkerPoolError) => error.code);
    expect(refused).toBe('WORKER_QUEUE_FULL');
    await app.stop();
    expect(await cutOff).toBe('WORKER_JOB_TERMINATED');
  });

  it('defaults to one worker less than the available parallelism, at least one', async () => {
    const app = await create(PoolOwner);
    expect(app.get(WorkerPoolResource).stats().size).toBe(Math.max(1, availableParallelism() - 1));
  });

  it('rejects a pool size of 0 before anything starts', async () => {
    const failure = createMicroservice(PoolOwner, {
      settings: { system: { resources: { pool: { size: 0 } } } },
      env: {},
    });
    await expect(failure).rejects.toMatchObject({ code: 'SETTINGS_INVALID' });
    await expect(failure).rejects.toThrow('system.resources.pool.size');
  });
});

describe('samples/workers', () => {
  it('counts primes in its workers, then stops cleanly on SIGTERM', async () => {
    const sample = spawnService('samples/workers/main.ts', {
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
    });
    processes.push(sample);
    await sample.waitFor(/9592 primes below 100000/, 30_000);

    sample.child.kill('SIGTERM');
    expect(await sample.exited).toEqual({ code: 0, signal: null });
    expect(sample.output()).toMatch(/prime_counter stopped in/);
  });
});
