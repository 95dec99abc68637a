import { setTimeout as sleep } from 'node:timers/promises';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { connectOutcome, send } from '../../unit/http/requests';
import { freePorts, listeningPort, reportServerPort } from './ports';
import { load, type Client } from './sigterm-load';

const CONNECTIONS = 20;
const LOAD_MS = 1500;
const SIGTERM_AFTER_MS = 200;

describe('SIGTERM under continuous load on fast handlers (child process, real sockets)', () => {
  const spawned: ServiceProcess[] = [];
  afterAll(() => killAll(spawned));

  async function stopUnderLoad(client: Client) {
    const service = spawnService('test/functional/http/fixtures/slow-service.ts', {
      ...freePorts('http'),
      SLOW_SERVICE_DELAY_MS: '1',
      KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
    });
    spawned.push(service);
    const port = await listeningPort(service);
    // Not before every client was answered once: a connection still in the accept queue when the
    // listener closes is reset by the kernel, which says nothing of the drain.
    let warm: () => void = () => undefined;
    const warmed = new Promise<void>((resolve) => (warm = resolve));
    const result = load(port, '/slow', {
      client,
      connections: CONNECTIONS,
      durationMs: LOAD_MS,
      onWarm: warm,
    });
    await warmed;
    await sleep(SIGTERM_AFTER_MS);
    service.child.kill('SIGTERM');
    const { counts, failures } = await result;
    return {
      counts,
      failures: Object.fromEntries(failures),
      exit: await service.exited,
      output: service.output(),
    };
  }

  it('keep-alive clients: every request is answered (200, or 503 with Retry-After), none is reset, exit 0', async () => {
    const { counts, failures, exit, output } = await stopUnderLoad('keep-alive');
    expect({ ...counts, failures }).toMatchObject({ resetReused: 0, resetNew: 0, failed: 0, failures: {} });
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(0);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/drained: 0 request\(s\) abandoned, 0 socket\(s\) destroyed/);
  }, 30_000);

  it('Connection: close clients: no accepted request is cut; the server destroys no socket', async () => {
    const { counts, failures, exit, output } = await stopUnderLoad('close');
    expect({ resetReused: counts.resetReused, failed: counts.failed, failures }).toEqual({
      resetReused: 0,
      failed: 0,
      failures: {},
    });
    expect(counts.ok).toBeGreaterThan(0);
    expect(exit).toEqual({ code: 0, signal: null });
    // Resets left are connections still in the kernel's accept queue when the listener closed.
    expect(output).toMatch(/drained: 0 request\(s\) abandoned, 0 socket\(s\) destroyed, 0 idle/);
  }, 30_000);

  it('keeps accepting, with Connection: close, for shutdown_delay_ms after readiness turned 503', async () => {
    const service = spawnService('test/functional/http/fixtures/slow-service.ts', {
      ...freePorts('http'),
      SLOW_SERVICE_DELAY_MS: '1',
      KEEL__SYSTEM__RESOURCES__HTTP__SHUTDOWN_DELAY_MS: '20000',
      KEEL__SYSTEM__RESOURCES__HTTP__DRAIN_TIMEOUT_MS: '1000',
    });
    spawned.push(service);
    const [port, reportPort] = [await listeningPort(service), await reportServerPort(service)];
    service.child.kill('SIGTERM');
    await service.waitFor(/draining: /);
    expect((await send(reportPort, '/health/ready')).status).toBe(503);
    const during = await send(port, '/slow');
    expect(during).toMatchObject({ status: 200, body: 'done' });
    expect(during.headers.connection).toBe('close');
    expect(await connectOutcome(port)).toBe('connected');
    expect(service.output()).not.toContain('drained:');
    service.child.kill('SIGKILL');
  }, 30_000);
});
