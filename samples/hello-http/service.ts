import { Microservice, microservice } from '../../lib';
import { http, HttpServerResource } from '../../lib/resources/http';

/** The smallest HTTP service: what the cold-start benchmark measures against a bare koa script. */
@microservice({ name: 'hello_http', resources: { http: HttpServerResource } })
export class HelloHttp extends Microservice {
  @http('GET', '/hello')
  hello(): string {
    return 'hello';
  }
}
