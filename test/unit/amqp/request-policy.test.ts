import { setTimeout as sleep } from 'node:timers/promises';
import {
  AmqpRequestError,
  AmqpResource,
  Microservice,
  microservice,
  PolicyError,
  respond,
  Test,
  type App,
} from '../../../lib';
import { InMemoryBroker } from '../../../lib/testing';
import { quietLog } from '../../support/async';

/** How many times each responder was reached; the slow one answers its first call too late. */
const calls = { slow: 0, hanging: 0 };

@microservice({ name: 'quotes', resources: { amqp: AmqpResource } })
class Quotes extends Microservice {
  @respond('slow.quote')
  async slow(): Promise<number> {
    if (++calls.slow === 1) await sleep(300);
    return 42;
  }

  @respond('hanging.quote')
  async hanging(): Promise<number> {
    calls.hanging++;
    await sleep(300);
    return 0;
  }
}

describe('AmqpResource.request() through the policy module', () => {
  const broker = new InMemoryBroker();
  let app: App;
  const amqp = () => app.get(AmqpResource);
  const breakers = () => app.status().resources.find((row) => row.name === 'amqp')!.breakers ?? [];

  beforeAll(async () => {
    app = await Test.createMicroservice(Quotes, { log: quietLog() })
      .overrideResource(AmqpResource)
      .useClass(broker.AmqpResource)
      .withSettings({
        system: {
          resources: {
            amqp: {
              drain_timeout_ms: 1000,
              request: {
                backoff_ms: 5,
                max_backoff_ms: 10,
                breaker: { consecutive_failures: 3, half_open_after_ms: 60_000 },
              },
            },
          },
        },
      })
      .start();
  });

  afterAll(() => app?.stop());

  beforeEach(() => {
    calls.slow = 0;
    calls.hanging = 0;
  });

  it('does not send a request twice unless the caller says it is idempotent', async () => {
    await expect(amqp().request('slow.quote', {}, { timeout_ms: 100 })).rejects.toMatchObject({
      code: 'AMQP_REQUEST_TIMEOUT',
    });
    expect(calls.slow).toBe(1);
  });

  it('retries an idempotent request that got no reply, and returns the reply of the next attempt', async () => {
    await expect(amqp().request('slow.quote', {}, { timeout_ms: 100, idempotent: true })).resolves.toBe(42);
    expect(calls.slow).toBe(2);
  });

  it('bounds the retries by the total timeout: POLICY_TIMEOUT', async () => {
    const error = await amqp()
      .request('hanging.quote', {}, { timeout_ms: 50, total_timeout_ms: 120, idempotent: true, retries: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({ code: 'POLICY_TIMEOUT' });
    expect(calls.hanging).toBeGreaterThanOrEqual(1);
    expect(calls.hanging).toBeLessThan(100);
  });

  it('gives up after the retries with POLICY_RETRIES_EXHAUSTED and the last error as cause', async () => {
    const error = await amqp()
      .request('nobody.quote', {}, { idempotent: true, retries: 1 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POLICY_RETRIES_EXHAUSTED', attempts: 2 });
    expect((error as PolicyError).cause).toBeInstanceOf(AmqpRequestError);
    expect((error as PolicyError).cause).toMatchObject({ code: 'AMQP_NO_RESPONDER' });
  });

  it("opens the routing key's breaker after consecutive failures: the next request fails at once, the others still go", async () => {
    // nobody.quote failed twice just above; one more failure opens it.
    await expect(amqp().request('nobody.quote', {})).rejects.toMatchObject({ code: 'AMQP_NO_RESPONDER' });
    await expect(amqp().request('nobody.quote', {})).rejects.toMatchObject({ code: 'POLICY_BREAKER_OPEN' });
    expect(breakers()).toContainEqual(expect.objectContaining({ target: 'nobody.quote', state: 'open' }));
    await expect(amqp().request('slow.quote', {}, { timeout_ms: 1000 })).resolves.toBe(42);
  });
});
