import { connect, type Socket } from 'node:net';
import { freePorts } from '../../support/ports';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

const EXHAUSTED = /"msg":"[^"]*the process has no file descriptor left/g;

describe('descriptor exhaustion', () => {
  const processes: ServiceProcess[] = [];
  const sockets: Socket[] = [];
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    killAll(processes);
  });

  function open(port: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      // Accepted and closed at once by libuv once the server is out of descriptors: either way, go on.
      socket.once('connect', () => resolve());
      socket.once('error', () => resolve());
      socket.on('close', () => resolve());
    });
  }

  it('a service with ulimit -n 512 held by 700 connections says so once, then once that it recovered', async () => {
    const [httpPort, reportPort] = await freePorts(2);
    const service = spawnService(
      'samples/hello-http/main.ts',
      {
        KEEL__SYSTEM__RESOURCES__HTTP__PORT: String(httpPort),
        KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
        KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: String(reportPort),
      },
      [],
      { maxOpenFiles: 512 },
    );
    processes.push(service);
    await service.waitFor(/ ready in [\d.]+ ms/, 60_000);
    for (let n = 0; n < 700; n++) await open(httpPort);
    const said = await service.waitFor(new RegExp(EXHAUSTED.source), 30_000);
    expect(said).toMatch(/"max_fds":512/);
    // More connections while it lasts: still said once.
    for (let n = 0; n < 100; n++) await open(httpPort);
    for (const socket of sockets.splice(0)) socket.destroy();
    await service.waitFor(/file descriptors are available again/, 30_000);
    expect(service.output().match(EXHAUSTED)).toHaveLength(1);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
