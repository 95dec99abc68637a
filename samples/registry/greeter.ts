import {
  http,
  HttpServerResource,
  instanceIdentity,
  Microservice,
  microservice,
  RegistryResource,
} from '../../lib';

/** One instance of the `greeter` service: an HTTP server on a free port, registered in etcd. */
@microservice({ name: 'greeter', resources: { http: HttpServerResource, registry: RegistryResource } })
export class Greeter extends Microservice {
  @http('GET', '/hello')
  hello(): { hello: string; instance_id: string } {
    return { hello: 'world', instance_id: instanceIdentity().instance_id };
  }
}
