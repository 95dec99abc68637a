import {
  defineWorkerTask,
  inject,
  LOGGER,
  Microservice,
  microservice,
  resource,
  taskTimer,
  WorkerPoolResource,
  type Log,
} from '../../lib';
import type { countPrimes } from './tasks';

// require.resolve finds tasks.ts when run through @swc-node/register or jest, tasks.js once compiled.
const countPrimesTask = defineWorkerTask<typeof countPrimes>(require.resolve('./tasks'), 'countPrimes');

/** Answers prime counts without blocking the event loop: the counting runs in the worker pool. */
@resource()
export class PrimeCounter {
  constructor(private readonly workers: WorkerPoolResource) {}

  count(limit: number): Promise<number> {
    return this.workers.run(countPrimesTask, limit);
  }
}

@microservice({ name: 'prime_counter', resources: { workers: WorkerPoolResource, primes: PrimeCounter } })
export class WorkersService extends Microservice {
  private limit = 100_000;

  constructor(
    private readonly primes: PrimeCounter,
    @inject(LOGGER) private readonly log: Log,
  ) {
    super();
  }

  @taskTimer({ interval: 1000, autostart: true })
  async countNext(): Promise<void> {
    const count = await this.primes.count(this.limit);
    this.log.info({ limit: this.limit, count }, `${count} primes below ${this.limit}`);
    this.limit *= 2;
  }
}
