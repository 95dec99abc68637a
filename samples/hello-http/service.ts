import { http, HttpServerResource, Microservice, microservice } from '../../lib';

/** The smallest HTTP service: what the cold-start benchmark measures against a bare koa script. */
@microservice({ name: 'hello_http', resources: { http: HttpServerResource } })
export class HelloHttp extends Microservice {
  @http('GET', '/hello')
  hello(): string {
    return 'hello';
  }
}
