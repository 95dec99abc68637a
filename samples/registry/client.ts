import './defaults';
import {
  Discovery,
  HttpClientResource,
  inject,
  Microservice,
  microservice,
  resourceToken,
  run,
  taskTimer,
} from '../../lib';

/**
 * Calls `greeter` through the registry every interval: each request goes to the next live
 * instance, and a failed attempt is retried on another one. Prints which instance answered.
 */
@microservice({
  name: 'greeter_client',
  resources: { discovery: Discovery, greeter: HttpClientResource },
})
export class GreeterClient extends Microservice {
  constructor(
    @inject(resourceToken<HttpClientResource>('greeter')) private readonly client: HttpClientResource,
    private readonly discovery: Discovery,
  ) {
    super();
  }

  @taskTimer({ interval: 500 })
  async call(): Promise<void> {
    const live = this.discovery.instances('greeter').length;
    try {
      const response = await this.client.get('/hello');
      const body = (await response.json()) as { instance_id: string };
      process.stdout.write(`${response.status} from ${body.instance_id} (${live} live)\n`);
    } catch (error) {
      process.stdout.write(`failed: ${(error as Error).message} (${live} live)\n`);
    }
  }
}

void run(GreeterClient);
