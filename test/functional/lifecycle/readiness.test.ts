import {
  Microservice,
  microservice,
  ReportServerResource,
  resource,
  ResourceStatus,
  Test,
  type App,
  type ResourceHealth,
} from '../../../lib';
import { quietLog } from '../../support/async';

const health: Record<'feed' | 'cache', ResourceStatus> = {
  feed: ResourceStatus.STARTED,
  cache: ResourceStatus.STARTED,
};
let linkHealth: ResourceHealth = ResourceStatus.STARTED;

@resource()
class Feed {
  status(): { status: ResourceStatus; text: string } {
    return { status: health.feed, text: 'upstream closed the stream' };
  }
}

/** The service answers without it: its failure leaves readiness alone. */
@resource({ readiness: false })
class Cache {
  status(): ResourceStatus {
    return health.cache;
  }
}

/** Says itself whether readiness waits for it, as an AMQP connection being re-established does. */
@resource({ readiness: false })
class Link {
  status(): ResourceHealth {
    return linkHealth;
  }
}

@microservice({ name: 'ready_svc', resources: { feed: Feed, cache: Cache, link: Link } })
class ReadySvc extends Microservice {}

let app: App;
beforeAll(async () => {
  app = await Test.createMicroservice(ReadySvc, { log: quietLog() }).start();
});
afterAll(() => app.stop());

async function readiness(): Promise<{ status: number; body: unknown }> {
  const { port } = app.get(ReportServerResource).address()!;
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
  return { status: response.status, body: await response.json() };
}

describe('readiness', () => {
  it('turns 503 while a resource reports FAILED, unless it opted out, and 200 again once it recovers', async () => {
    expect(await readiness()).toEqual({ status: 200, body: { ready: true, state: 'running' } });
    health.cache = ResourceStatus.FAILED;
    expect((await readiness()).status).toBe(200);
    health.feed = ResourceStatus.FAILED;
    expect(await readiness()).toEqual({ status: 503, body: { ready: false, state: 'running' } });
    health.feed = ResourceStatus.STARTED;
    expect((await readiness()).status).toBe(200);
  });

  it('turns 503 while a resource says ready: false, even one that opted out of its FAILED counting', async () => {
    linkHealth = { status: ResourceStatus.CONNECTING, text: 'reconnecting', ready: false };
    expect((await readiness()).status).toBe(503);
    expect(app.status().resources.find((row) => row.name === 'link')).toMatchObject({
      status: 'CONNECTING',
      ready: false,
    });
    linkHealth = { status: ResourceStatus.CONNECTING, text: 'reconnecting', ready: true };
    expect((await readiness()).status).toBe(200);
    linkHealth = ResourceStatus.STARTED;
    expect((await readiness()).status).toBe(200);
  });
});
