import WebSocket from 'ws';
import { until } from '../../support/async';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { json, send } from '../../unit/http/requests';
import { freePorts, listeningPort, reportServerPort } from './ports';

/** Each sample as its README runs it (`node -r @swc-node/register samples/<name>/main.ts`), on free ports. */
describe('the HTTP samples', () => {
  const spawned: ServiceProcess[] = [];
  afterAll(() => killAll(spawned));

  function start(sample: string, ...servers: string[]): ServiceProcess {
    const service = spawnService(`samples/${sample}/main.ts`, freePorts(...servers));
    spawned.push(service);
    return service;
  }

  async function stopsCleanly(service: ServiceProcess): Promise<void> {
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }

  it('sheep-counter: POST /sheep counts a sheep after a nap, GET /sheep tells the count', async () => {
    const service = start('sheep-counter', 'http');
    const port = await listeningPort(service);
    expect((await send(await reportServerPort(service), '/health/ready')).status).toBe(200);
    expect((await send(port, '/sheep')).body).toBe('0');
    const posts = await Promise.all([1, 2, 3].map(() => send(port, '/sheep', { method: 'POST' })));
    expect(posts.map(({ status }) => status)).toEqual([200, 200, 200]);
    expect(posts.map(({ body }) => body).sort()).toEqual(['1', '2', '3']);
    expect(await send(port, '/sheep')).toMatchObject({ status: 200, body: '3' });
    await stopsCleanly(service);
  }, 30_000);

  it('two-servers: one resource class under two names, each on its own port with its own routes', async () => {
    const service = start('two-servers', 'recommendation_http_api', 'billing_http_api');
    const recommendations = await listeningPort(service, 'recommendation_http_api');
    const billing = await listeningPort(service, 'billing_http_api');
    expect(recommendations).not.toBe(billing);
    expect(json(await send(recommendations, '/recommendations/1'))).toEqual({ pick: 'goats' });
    const invoice = await send(billing, '/invoices', { method: 'POST' });
    expect(invoice.status).toBe(201);
    expect(json(invoice)).toEqual({ invoice: 1 });
    expect(json(await send(billing, '/admin/state'))).toEqual({ state: 'running' });
    expect((await send(billing, '/recommendations/1')).status).toBe(404);
    expect((await send(recommendations, '/invoices', { method: 'POST' })).status).toBe(404);
    await stopsCleanly(service);
  }, 30_000);

  it('hello-http: GET /hello', async () => {
    const service = start('hello-http', 'http');
    expect(await send(await listeningPort(service), '/hello')).toMatchObject({ status: 200, body: 'hello' });
    await stopsCleanly(service);
  }, 30_000);

  it('live-ticks: a tick a second to every WebSocket on /ticks; SIGTERM closes them with 1001', async () => {
    const service = start('live-ticks', 'http');
    const client = new WebSocket(`ws://127.0.0.1:${await listeningPort(service)}/ticks`);
    const ticks: Array<{ at: string; listeners: number }> = [];
    client.on('message', (data) => ticks.push(JSON.parse(String(data)) as { at: string; listeners: number }));
    const closed = new Promise<number>((resolve) => client.on('close', (code) => resolve(code)));
    await until(() => ticks.length >= 2, 10_000, 'two ticks');
    expect(ticks[0].listeners).toBe(1);
    // On the second grid; a tick can be skipped on a machine too busy to run it on time.
    const apart = Date.parse(ticks[1].at) - Date.parse(ticks[0].at);
    expect(apart > 0 && apart % 1000 === 0).toBe(true);
    await stopsCleanly(service);
    expect(await closed).toBe(1001);
  }, 30_000);
});
