import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { context, trace } from '@opentelemetry/api';
import WebSocket from 'ws';
import {
  type App,
  GraphError,
  HttpServerResource,
  Microservice,
  microservice,
  reply,
  resource,
  Test,
  websocket,
  type WebSocketConnection,
  type WebSocketUpgrade,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { freePorts, listeningPort } from './ports';

interface ChatIn {
  text: string;
}
interface ChatOut {
  echo: string;
  requestId: string;
  room: string;
}

/** What the slow-client route sends, and how much: bounded, so the test ends whatever the server does. */
const BURST = 200;
const CHUNK = 64 * 1024;

@resource()
class Chat {
  readonly seen: { requestId: string; params: Readonly<Record<string, string>> }[] = [];
  readonly slow: WebSocketConnection<string, Buffer>[] = [];
  maxBuffered = 0;
  sentInBurst = 0;

  @websocket('/rooms/:room', {
    upgrade(request: WebSocketUpgrade) {
      if (request.headers.authorization !== 'Bearer letmein')
        return reply(401, { error: 'a bearer token is needed', status: 401 });
    },
  })
  join(connection: WebSocketConnection<ChatIn, ChatOut>): void {
    this.seen.push({ requestId: connection.requestId, params: connection.params });
    connection.onMessage((message) =>
      connection.send({ echo: message.text, requestId: connection.requestId, room: connection.params.room }),
    );
  }

  /** On 'burst', BURST chunks at once to a client that does not read them. */
  @websocket('/firehose', { codec: 'raw' })
  firehose(connection: WebSocketConnection<string, Buffer>): void {
    this.slow.push(connection);
    connection.onMessage(() => {
      const chunk = randomBytes(CHUNK);
      for (let i = 0; i < BURST; i++) {
        if (connection.send(chunk)) this.sentInBurst++;
        this.maxBuffered = Math.max(this.maxBuffered, connection.bufferedBytes);
      }
    });
  }
}

@microservice({ name: 'chat_api', resources: { http: HttpServerResource, chat: Chat } })
class ChatService extends Microservice {}

const records: { level: string; message: string; fields: object }[] = [];

async function startChat(websocketSettings: object = {}, http: object = {}): Promise<App> {
  return Test.createMicroservice(ChatService, { log: quietLog(records) })
    .withSettings({
      system: {
        resources: { http: { port: 0, websocket: websocketSettings, ...http }, report_server: { port: 0 } },
      },
    })
    .start();
}

function urlOf(app: App, path: string): string {
  return `ws://127.0.0.1:${app.get(HttpServerResource).address()!.port}${path}`;
}

function open(
  url: string,
  headers: Record<string, string> = { authorization: 'Bearer letmein' },
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, { headers });
    client.once('open', () => resolve(client));
    client.once('error', reject);
    client.once('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused with ${response.statusCode}`)),
    );
  });
}

/** The answer to an upgrade the server refuses: its status and body. */
function refusal(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, { headers });
    client.once('open', () => reject(new Error('the upgrade was accepted')));
    client.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
  });
}

function closed(client: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

function nextMessage(client: WebSocket): Promise<string> {
  return new Promise((resolve) => client.once('message', (data: Buffer) => resolve(data.toString())));
}

/** A client on a raw socket: the handshake done by hand, then nothing read (and no pong sent). */
async function rawClient(port: number, path: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  const head = await new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString())),
  );
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/** One masked text frame, as a client must send it. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe('WebSocket routes on HttpServerResource (real sockets, a ws client)', () => {
  const apps: App[] = [];
  const spawned: ServiceProcess[] = [];
  const clients: WebSocket[] = [];
  const raw: Socket[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.terminate();
    for (const socket of raw.splice(0)) socket.destroy();
    await Promise.all(apps.splice(0).map((app) => app.stop()));
  }, 30_000);
  afterAll(() => killAll(spawned));

  it('typed messages through the codec, the route params and the request id on the connection, counted', async () => {
    const app = await startChat();
    apps.push(app);
    const client = await open(urlOf(app, '/rooms/lobby'), {
      authorization: 'Bearer letmein',
      'x-request-id': 'ws-req-1',
    });
    clients.push(client);
    const answer = nextMessage(client);
    client.send(JSON.stringify({ text: 'hello' }));
    expect(JSON.parse(await answer)).toEqual({ echo: 'hello', requestId: 'ws-req-1', room: 'lobby' });
    expect(app.get(Chat).seen).toEqual([{ requestId: 'ws-req-1', params: { room: 'lobby' } }]);

    // Not JSON: closed with 1007 (invalid payload data).
    const ended = closed(client);
    client.send('{not json');
    expect((await ended).code).toBe(1007);

    const metrics = await app.meters.render();
    expect(metrics).toMatch(
      /websocket_messages_total\{[^}]*route="\/rooms\/:room"[^}]*direction="in"[^}]*\} 2/,
    );
    expect(metrics).toMatch(
      /websocket_messages_total\{[^}]*route="\/rooms\/:room"[^}]*direction="out"[^}]*\} 1/,
    );
    expect(metrics).toMatch(
      /websocket_upgrades_total\{[^}]*route="\/rooms\/:room"[^}]*status="101"[^}]*\} 1/,
    );
    await until(() => app.get(HttpServerResource).openWebSockets === 0, 5000, 'the connection gone');
    expect(await app.meters.render()).toMatch(/websocket_closed_total\{[^}]*reason="decode"[^}]*\} 1/);
  }, 30_000);

  it("with tracing on, the callbacks run under the upgrade's server span, continuing the client's traceparent", async () => {
    const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traces: (string | undefined)[] = [];
    @microservice({ name: 'traced_chat', resources: { http: HttpServerResource } })
    class TracedChat extends Microservice {
      @websocket('/traced')
      join(connection: WebSocketConnection<string>): void {
        traces.push(trace.getSpan(context.active())?.spanContext().traceId);
        connection.onMessage(() => {
          traces.push(trace.getSpan(context.active())?.spanContext().traceId);
          connection.send('seen');
        });
      }
    }
    const app = await Test.createMicroservice(TracedChat, { log: quietLog(records) })
      .withSettings({
        system: {
          tracing: { enabled: true, exporter: 'none' },
          resources: { http: { port: 0 }, report_server: { port: 0 } },
        },
      })
      .start();
    apps.push(app);
    const client = await open(urlOf(app, '/traced'), { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    clients.push(client);
    const answer = nextMessage(client);
    client.send('"hello"');
    expect(await answer).toBe('"seen"');
    expect(traces).toEqual([TRACE_ID, TRACE_ID]);
  }, 30_000);

  it('1,000 connections at once, each echoed; the gauge counts them open', async () => {
    const app = await startChat();
    apps.push(app);
    const url = urlOf(app, '/rooms/crowd');
    const crowd = await Promise.all(Array.from({ length: 1000 }, () => open(url)));
    clients.push(...crowd);
    expect(app.get(HttpServerResource).openWebSockets).toBe(1000);
    expect(await app.meters.render()).toMatch(
      /websocket_connections\{[^}]*route="\/rooms\/:room"[^}]*\} 1000/,
    );
    const answers = await Promise.all(
      crowd.map((client, i) => {
        const answer = nextMessage(client);
        client.send(JSON.stringify({ text: `n${i}` }));
        return answer;
      }),
    );
    expect(answers.map((answer) => (JSON.parse(answer) as ChatOut).echo)).toEqual(
      crowd.map((_, i) => `n${i}`),
    );
  }, 60_000);

  it('an upgrade the hook refuses gets its status and body (401); an unknown path 404; no connection is made', async () => {
    const app = await startChat();
    apps.push(app);
    const refused = await refusal(urlOf(app, '/rooms/lobby'), { authorization: 'Bearer guess' });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({ error: 'a bearer token is needed', status: 401 });
    await expect(open(urlOf(app, '/rooms/lobby'), {})).rejects.toThrow('upgrade refused with 401');
    await expect(open(urlOf(app, '/nowhere'))).rejects.toThrow('upgrade refused with 404');
    expect(app.get(HttpServerResource).openWebSockets).toBe(0);
    expect(await app.meters.render()).toMatch(/websocket_upgrades_total\{[^}]*status="401"[^}]*\} 2/);
  }, 30_000);

  it('a message over websocket.max_payload_bytes closes the connection with 1009', async () => {
    const app = await startChat({ max_payload_bytes: 1024 });
    apps.push(app);
    const client = await open(urlOf(app, '/rooms/lobby'));
    clients.push(client);
    const ended = closed(client);
    client.send(JSON.stringify({ text: 'x'.repeat(2048) }));
    expect((await ended).code).toBe(1009);
    await until(() => app.get(HttpServerResource).openWebSockets === 0, 5000, 'the connection gone');
    expect(await app.meters.render()).toMatch(/websocket_closed_total\{[^}]*reason="payload"[^}]*\} 1/);
  }, 30_000);

  it.each(['drop', 'close'] as const)(
    'a client that never reads: the unsent bytes stay within send_buffer_bytes (slow_client: %s)',
    async (policy) => {
      const limit = 256 * 1024;
      const app = await startChat({ send_buffer_bytes: limit, slow_client: policy });
      apps.push(app);
      const socket = await rawClient(app.get(HttpServerResource).address()!.port, '/firehose');
      raw.push(socket);
      socket.write(textFrame('burst'));
      socket.pause();
      const chat = app.get(Chat);
      await until(() => chat.slow.length === 1 && chat.sentInBurst > 0, 5000, 'the burst');
      // 200 × 64 KiB offered in one turn: 12.5 MiB, far past what the kernel's buffers take without a reader.
      const metrics = await app.meters.render();
      const dropped = Number(/websocket_dropped_messages_total\{[^}]*\} (\d+)/.exec(metrics)![1]);
      expect(chat.maxBuffered).toBeLessThanOrEqual(limit);
      if (policy === 'close') {
        // The first send past the bound ends the connection; the later ones find it closed.
        expect(dropped).toBe(1);
        expect(chat.slow[0].open).toBe(false);
        await until(() => app.get(HttpServerResource).openWebSockets === 0, 5000, 'the slow client ended');
        expect(await app.meters.render()).toMatch(/websocket_closed_total\{[^}]*reason="slow"[^}]*\} 1/);
      } else {
        expect(dropped).toBeGreaterThan(0);
        expect(chat.sentInBurst + dropped).toBe(BURST);
        expect(chat.slow[0].open).toBe(true);
      }
    },
    30_000,
  );

  it('liveness: a client that answers no ping is ended; a ws client (which answers) stays', async () => {
    const app = await startChat({ ping_interval_ms: 50 });
    apps.push(app);
    const { port } = app.get(HttpServerResource).address()!;
    const client = await open(urlOf(app, '/rooms/lobby'));
    clients.push(client);
    let pings = 0;
    client.on('ping', () => pings++);
    const silent = await rawClient(port, '/firehose');
    raw.push(silent);
    silent.pause();
    await until(() => app.get(HttpServerResource).openWebSockets === 1, 10_000, 'the silent client ended');
    await until(() => pings >= 3, 10_000, 'three pings answered');
    expect(client.readyState).toBe(WebSocket.OPEN);
    expect(await app.meters.render()).toMatch(
      /websocket_closed_total\{[^}]*route="\/firehose"[^}]*reason="liveness"[^}]*\} 1/,
    );
  }, 30_000);

  it('stop with connections open: each gets 1001, the stop waits for their close; new upgrades get 503', async () => {
    const app = await startChat({}, { shutdown_delay_ms: 1500 });
    const url = urlOf(app, '/rooms/lobby');
    const open3 = await Promise.all([open(url), open(url), open(url)]);
    clients.push(...open3);
    const ends: { code: number; reason: string }[] = [];
    const all = open3.map((client) => closed(client).then((end) => ends.push(end)));
    const stopped = app.stop().then(() => ends.length);
    await Promise.all(all);
    // During the shutdown delay the listener still accepts: an upgrade then is turned away.
    await expect(open(url)).rejects.toThrow('upgrade refused with 503');
    expect(await stopped).toBe(3);
    expect(ends).toEqual(Array.from({ length: 3 }, () => ({ code: 1001, reason: 'server shutting down' })));
  }, 30_000);

  it('stop: a client that never answers the close is cut at drain_timeout_ms, and the stop ends', async () => {
    const app = await startChat({}, { drain_timeout_ms: 300 });
    const silent = await rawClient(app.get(HttpServerResource).address()!.port, '/firehose');
    raw.push(silent);
    silent.pause();
    const gone = new Promise((resolve) => silent.once('close', resolve));
    await app.stop();
    silent.resume();
    await gone;
    expect(records.some(({ message }) => message.includes('1 socket(s) destroyed'))).toBe(true);
  }, 30_000);

  it('SIGTERM in a real process: every client gets 1001, exit 0', async () => {
    const service = spawnService('test/functional/http/fixtures/chat-service.ts', freePorts('http'));
    spawned.push(service);
    const port = await listeningPort(service);
    const crowd = await Promise.all(
      Array.from({ length: 20 }, () => open(`ws://127.0.0.1:${port}/echo`, {})),
    );
    clients.push(...crowd);
    await service.waitFor(/joined 20/);
    const ends = crowd.map(closed);
    service.child.kill('SIGTERM');
    expect((await Promise.all(ends)).map(({ code }) => code)).toEqual(Array.from({ length: 20 }, () => 1001));
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.output()).toContain('closing 20 WebSocket connection(s) with 1001');
  }, 60_000);

  it('a @websocket route in a service without an HttpServerResource is a graph error', async () => {
    @microservice({ name: 'lonely', resources: { chat: Chat } })
    class Lonely extends Microservice {}
    const failure = await Test.createMicroservice(Lonely)
      .start()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GraphError);
    expect(failure).toMatchObject({ code: 'HTTP_NO_SERVER' });
    expect(String(failure)).toContain('declares @websocket routes (WS /rooms/:room, WS /firehose)');
  });
});
