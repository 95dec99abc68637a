import { Agent } from 'node:http';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { connectOutcome, send } from '../../unit/http/requests';
import { freePorts, listeningPort } from './ports';

const REQUESTS = 200;

describe('SIGTERM while 200 requests are in flight (child process, real sockets)', () => {
  const spawned: ServiceProcess[] = [];
  afterAll(() => killAll(spawned));

  it('answers all 200, refuses new connections, closes keep-alive connections and exits 0', async () => {
    const service = spawnService('test/functional/http/fixtures/slow-service.ts', {
      ...freePorts('http'),
      SLOW_SERVICE_BARRIER: String(REQUESTS),
      SLOW_SERVICE_HOLD_UNTIL_SIGTERM: '1',
    });
    spawned.push(service);
    const port = await listeningPort(service);
    const agent = new Agent({ keepAlive: true, maxSockets: REQUESTS });
    try {
      const replies = Array.from({ length: REQUESTS }, () => send(port, '/slow', { agent }));
      await service.waitFor(new RegExp(`all ${REQUESTS} requests in flight`));
      service.child.kill('SIGTERM');
      const draining = await service.waitFor(/draining: (\d+) request\(s\) in flight/);
      expect(/draining: (\d+) request/.exec(draining)![1]).toBe(String(REQUESTS));
      expect(await connectOutcome(port)).toBe('ECONNREFUSED');

      const answered = await Promise.all(replies);
      expect(answered.filter(({ status, body }) => status === 200 && body === 'done')).toHaveLength(REQUESTS);
      expect(answered.every(({ headers }) => headers.connection === 'close')).toBe(true);
      expect(await service.exited).toEqual({ code: 0, signal: null });
      expect(service.output()).toContain('drained: 0 request(s) abandoned');
    } finally {
      agent.destroy();
    }
  }, 60_000);
});
