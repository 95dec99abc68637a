import {
  Microservice,
  microservice,
  ReportServerResource,
  resource,
  ResourceStatus,
  Test,
  type App,
} from '../../../lib';
import { quietLog } from '../../support/async';

const health: Record<'feed' | 'cache', ResourceStatus> = {
  feed: ResourceStatus.STARTED,
  cache: ResourceStatus.STARTED,
};

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

@microservice({ name: 'ready_svc', resources: { feed: Feed, cache: Cache } })
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
});
