import { Agent } from 'node:http';
import {
  inject,
  Microservice,
  microservice,
  resource,
  ReportServerResource,
  Test,
  type App,
} from '../../../lib';
import { http, HttpServerResource } from '../../../lib/resources/http';
import { deferred, until, type Deferred } from '../../support/async';
import { connectOutcome, recordingLog, send, type LogRecord } from './requests';

/** Set per test: the slow handler waits for it, so the test decides when the request ends. */
let release: Deferred<void>;
let entered: Deferred<void>;

/** What the handlers use: it must still be running while the server drains. */
@resource()
class Barn {
  open = false;
  start(): void {
    this.open = true;
  }
  stop(): void {
    this.open = false;
  }
}

@microservice({ name: 'drainer', resources: { http: HttpServerResource, barn: Barn } })
class Drainer extends Microservice {
  constructor(@inject(Barn) private readonly barn: Barn) {
    super();
  }

  @http('GET', '/slow')
  async slow(): Promise<string> {
    entered.resolve();
    await release.promise;
    return this.barn.open ? 'barn open' : 'barn closed';
  }

  @http('GET', '/fast')
  fast(): string {
    return 'fast';
  }
}

async function startDrainer(records: LogRecord[], http: Record<string, unknown> = {}): Promise<App> {
  return Test.createMicroservice(Drainer, { log: recordingLog(records) })
    .withSettings({ system: { resources: { http: { port: 0, ...http } } } })
    .start();
}

describe('the drain of an HttpServerResource', () => {
  beforeEach(() => {
    release = deferred();
    entered = deferred();
  });

  it('finishes in-flight requests before any resource stops, and turns away what comes after', async () => {
    const records: LogRecord[] = [];
    // The idle keep-alive connection must outlive the test's steps until its request is sent.
    const app = await startDrainer(records, { drain_idle_grace_ms: 60_000 });
    const port = app.get(HttpServerResource).address()!.port;
    const reportPort = app.get(ReportServerResource).address()!.port;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // An idle keep-alive connection, open before the stop.
      expect((await send(port, '/fast', { agent: keepAlive })).headers.connection).toBe('keep-alive');
      const inFlight = send(port, '/slow');
      await entered.promise;

      const stopped = app.stop();
      await until(() => records.some(({ message }) => message.startsWith('draining:')), 5000, 'the drain');
      expect((await send(reportPort, '/health/ready')).status).toBe(503);
      expect(await connectOutcome(port)).toBe('ECONNREFUSED');

      const turnedAway = await send(port, '/fast', { agent: keepAlive });
      expect(turnedAway.status).toBe(503);
      expect(turnedAway.headers['retry-after']).toBe('5');
      expect(turnedAway.headers.connection).toBe('close');

      release.resolve();
      const finished = await inFlight;
      expect(finished).toMatchObject({ status: 200, body: 'barn open' });
      expect(finished.headers.connection).toBe('close');
      await stopped;
      expect(records.find(({ message }) => message.startsWith('drained:'))?.fields).toMatchObject({
        abandonedRequests: 0,
        timedOut: false,
      });
    } finally {
      release.resolve();
      keepAlive.destroy();
    }
  });

  it('closes a keep-alive connection left quiet for drain_idle_grace_ms, and counts it apart', async () => {
    const records: LogRecord[] = [];
    const app = await startDrainer(records, { drain_idle_grace_ms: 50 });
    const port = app.get(HttpServerResource).address()!.port;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await send(port, '/fast', { agent: keepAlive })).headers.connection).toBe('keep-alive');
      await app.stop();
      expect(records.find(({ message }) => message.startsWith('drained:'))?.fields).toMatchObject({
        abandonedRequests: 0,
        destroyedSockets: 0,
        closedIdleSockets: 1,
        timedOut: false,
      });
    } finally {
      keepAlive.destroy();
    }
  });

  it('destroys what is left when drain_timeout_ms runs out, and logs how many sockets', async () => {
    const records: LogRecord[] = [];
    const app = await startDrainer(records, { drain_timeout_ms: 100 });
    const port = app.get(HttpServerResource).address()!.port;
    try {
      const cut = send(port, '/slow').then(
        () => 'answered',
        (error: NodeJS.ErrnoException) => error.code,
      );
      await entered.promise;
      await app.stop();
      expect(await cut).toBe('ECONNRESET');
      const drained = records.find(({ message }) => message.startsWith('drained:'))!;
      expect(drained.level).toBe('warn');
      expect(drained.fields).toMatchObject({ abandonedRequests: 1, destroyedSockets: 1, timedOut: true });
    } finally {
      release.resolve();
    }
  });

  it('drains and listens again when the server resource alone is restarted', async () => {
    const records: LogRecord[] = [];
    const app = await startDrainer(records);
    try {
      await app.restartResource('http');
      const server = app.get(HttpServerResource);
      expect(await send(server.address()!.port, '/fast')).toMatchObject({ status: 200, body: 'fast' });
      expect(server.router.stack.filter((layer) => layer.path === '/fast')).toHaveLength(1);
      expect(records.filter(({ message }) => message.startsWith('drained:'))).toHaveLength(1);
    } finally {
      release.resolve();
      await app.stop();
    }
  });
});
