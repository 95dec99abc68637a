import { createMicroservice, GraphError, Microservice, microservice, resource } from '../../../lib';
import { http, HttpServerResource } from '../../../lib/resources/http';
import { quietLog } from '../../support/async';

describe('@http routes without a server', () => {
  it('are refused before anything is constructed, naming the routes and the class', async () => {
    let constructed = false;
    @resource()
    class Pasture {
      constructor() {
        constructed = true;
      }
      @http('GET', '/sheep')
      count() {
        return 0;
      }
    }
    @microservice({ name: 'farm', resources: { pasture: Pasture } })
    class Farm extends Microservice {}
    const error = (await createMicroservice(Farm, { log: quietLog() }).catch(
      (caught: unknown) => caught,
    )) as GraphError;
    expect(error).toBeInstanceOf(GraphError);
    expect(error.code).toBe('HTTP_NO_SERVER');
    expect(error.message).toBe(
      'farm → pasture: Pasture declares @http routes (GET /sheep) but farm has no HttpServerResource to serve them; ' +
        'list one in its resources',
    );
    expect(constructed).toBe(false);
  });

  it('are accepted once the service has a server', async () => {
    @microservice({ name: 'farm', resources: { http: HttpServerResource } })
    class Farm extends Microservice {
      @http('GET', '/sheep')
      count() {
        return 0;
      }
    }
    const app = await createMicroservice(Farm, {
      log: quietLog(),
      settings: { system: { resources: { http: { port: 0 }, report_server: { port: 0 } } } },
    });
    await app.start();
    await app.stop();
  });
});
