import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClientResource, Microservice, microservice, resource, Test, type App } from 'keel';

// undici is required at the client's first start: under jest's vm a dynamic import() inside Keel's
// bundle was refused (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG) and the start failed.

@resource()
class Stock {
  constructor(private readonly client: HttpClientResource) {}

  async level(sku: string): Promise<number> {
    const response = await this.client.get(`/stock/${sku}`);
    return ((await response.json()) as { level: number }).level;
  }
}

@microservice({ name: 'stock_reader', resources: { http_client: HttpClientResource, stock: Stock } })
class StockReader extends Microservice {}

describe('HttpClientResource under jest', () => {
  let server: Server;
  let app: App | undefined;

  beforeAll(async () => {
    server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ level: request.url === '/stock/ab-1' ? 7 : 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await app?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('starts and calls a real local server', async () => {
    const { port } = server.address() as AddressInfo;
    app = await Test.createMicroservice(StockReader)
      .withSettings({ system: { resources: { http_client: { base_url: `http://127.0.0.1:${port}` } } } })
      .start();
    expect(await app.get(Stock).level('ab-1')).toBe(7);
  });
});
