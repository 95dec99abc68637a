import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import {
  AmqpResource,
  createMicroservice,
  GraphError,
  Microservice,
  microservice,
  pull,
  resource,
  respond,
  subscribe,
  Test,
} from '../../../lib';
import { handlersOfPrototype } from '../../../lib/resources/amqp/handlers/decorators';
import { quietLog } from '../../support/async';
import { PROJECT_ROOT } from '../../support/process';

@resource()
class Base {
  @subscribe('orders.*', { queue: 'audit' })
  onOrder(): void {}
}

@resource()
class Derived extends Base {
  @respond('price.quote')
  quote(): number {
    return 1;
  }

  @pull('jobs', { resource: 'west' })
  job(): void {}
}

@microservice({ name: 'no_broker', resources: { derived: Derived } })
class NoBroker extends Microservice {}

@microservice({ name: 'unreachable', resources: { amqp: AmqpResource } })
class Unreachable extends Microservice {}

describe('AMQP handler decorators', () => {
  it('declare handlers on a class and the classes it extends, base classes first', () => {
    expect(handlersOfPrototype(Derived.prototype)).toMatchObject([
      { pattern: 'subscribe', target: 'orders.*', key: 'onOrder', resource: undefined, queue: 'audit' },
      { pattern: 'respond', target: 'price.quote', key: 'quote', resource: undefined, queue: undefined },
      { pattern: 'pull', target: 'jobs', key: 'job', resource: 'west', queue: undefined },
    ]);
  });

  it('refuse a service whose handlers no AmqpResource would consume for, before anything is constructed', async () => {
    const failure = await createMicroservice(NoBroker, { log: quietLog() }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GraphError);
    expect((failure as GraphError).code).toBe('AMQP_NO_RESOURCE');
    expect((failure as Error).message).toContain(
      "Derived declares @subscribe('orders.*'), @respond('price.quote'), @pull('jobs') but no_broker has no AmqpResource",
    );
  });
});

describe('AmqpResource replaced or extended in a test', () => {
  @microservice({ name: 'listener', resources: { amqp: AmqpResource } })
  class Listener extends Microservice {
    @subscribe('stock.low')
    onLow(): void {}
  }

  it('takes a value in place of the AmqpResource its handlers need', async () => {
    const fake = { publish: () => Promise.resolve() };
    const app = await Test.createMicroservice(Listener, { log: quietLog() })
      .overrideResource<Pick<AmqpResource, 'publish'>>('amqp')
      .useValue(fake)
      .compile();
    expect(app.get('amqp')).toBe(fake);
  });

  it('builds a subclass without a constructor of its own with the injections and schema of its base', async () => {
    @resource()
    class Decorated extends AmqpResource {}
    class Undecorated extends AmqpResource {}
    for (const Subclass of [Decorated, Undecorated]) {
      const app = await Test.createMicroservice(Listener, { log: quietLog() })
        .overrideResource(AmqpResource)
        .useClass(Subclass)
        .withSettings({ system: { resources: { amqp: { url: 'amqp://u:p@127.0.0.1:1' } } } })
        .compile();
      const amqp = app.get<AmqpResource>('amqp');
      expect(amqp).toBeInstanceOf(Subclass);
      expect(amqp.url).toBe('amqp://[redacted]@127.0.0.1:1');
    }
  });
});

describe('AmqpResource without a broker', () => {
  it('fails to start after its attempts, naming the URL with its credentials redacted', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const app = await createMicroservice(Unreachable, {
      log: quietLog(),
      settings: {
        system: {
          resources: {
            amqp: {
              url: `amqp://admin:hunter2@127.0.0.1:${port}`,
              reconnect: { min_ms: 10, max_ms: 20, start_attempts: 2 },
            },
          },
        },
      },
    });
    const failure = await app.start().catch((error: unknown) => error);
    await app.stop();
    expect(String(failure)).toContain(
      `amqp 'amqp' cannot connect to amqp://[redacted]@127.0.0.1:${port} after 2 attempt(s)`,
    );
    expect(String(failure)).not.toContain('hunter2');
    await expect(app.get<AmqpResource>('amqp').publish('x', {})).rejects.toThrow(
      "amqp 'amqp' is not started",
    );
  });

  it('loads amqplib only when an AmqpResource is used, and names the package when it is missing', () => {
    const child = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', path.join(__dirname, 'fixtures', 'without-amqplib.ts')],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.stdout).toContain('amqplib loaded with keel: false');
    expect(child.stdout).toContain(
      "resource 'amqp' failed in start: AmqpResource 'amqp' needs the package amqplib, which is not installed: npm install amqplib",
    );
  });
});
