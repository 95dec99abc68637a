import { HttpServerResource, Test, type App } from 'keel';
import { ConsumerService, Greeter } from './service';

const FREE_PORTS = { system: { resources: { http: { port: 0 } } } };

async function greet(app: App, who: string): Promise<unknown> {
  const address = app.get(HttpServerResource).address();
  const response = await fetch(`http://127.0.0.1:${address?.port}/greet/${who}`);
  return response.json();
}

describe('the consumer service, through Test.createMicroservice', () => {
  let app: App | undefined;

  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('answers a route with its resource and the settings given', async () => {
    app = await Test.createMicroservice(ConsumerService)
      .withSettings(FREE_PORTS)
      .withSettings({ system: { resources: { greeter: { excited: true } } } })
      .start();
    expect(await greet(app, 'ann')).toEqual({ text: 'Hello, ann!' });
  });

  it('uses a resource swapped by the harness', async () => {
    app = await Test.createMicroservice(ConsumerService)
      .overrideResource(Greeter)
      .useValue({ greet: (who: string) => `stub for ${who}` })
      .withSettings(FREE_PORTS)
      .start();
    expect(await greet(app, 'bob')).toEqual({ text: 'stub for bob' });
  });
});
