import { killAll, spawnService, type ServiceProcess } from '../../support/process';

const started: ServiceProcess[] = [];
function start(entry: string, env?: NodeJS.ProcessEnv): ServiceProcess {
  const service = spawnService(entry, env);
  started.push(service);
  return service;
}
afterEach(() => killAll(started.splice(0)));

describe('a service under run()', () => {
  it('reaches ready, stops on SIGTERM in reverse dependency order and exits 0', async () => {
    const hello = start('samples/hello/main.ts');
    await hello.waitFor(/hello ready in [\d.]+ ms/);
    await hello.waitFor(/Hello, Ada!/);
    hello.child.kill('SIGTERM');
    expect(await hello.exited).toEqual({ code: 0, signal: null });
    const output = hello.output();
    for (const phase of ['preStart', 'start', 'postStart']) expect(output).toContain(`${phase} done in`);
    const stopOrder = ['greeter stopped', 'guestbook stopped', 'store stopped'].map((line) =>
      output.indexOf(line),
    );
    expect(stopOrder.every((position) => position >= 0)).toBe(true);
    expect([...stopOrder].sort((a, b) => a - b)).toEqual(stopOrder);
  });

  it('stops on SIGINT too', async () => {
    const hello = start('samples/hello/main.ts');
    await hello.waitFor(/ready in/);
    hello.child.kill('SIGINT');
    expect(await hello.exited).toEqual({ code: 0, signal: null });
    expect(hello.output()).toContain('SIGINT received: stopping gracefully');
  });

  it('exits 1 naming the resource whose start failed, after stopping what had started', async () => {
    const service = start('test/functional/lifecycle/fixtures/start-fails.ts');
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.output()).toContain(
      "resource 'broker' failed in start: broker unreachable at 127.0.0.1:1",
    );
    expect(service.output()).toContain('database stopped');
  });

  it('exits 3 when the stop outlives stop_timeout_ms, naming what was still stopping', async () => {
    const service = start('test/functional/lifecycle/fixtures/slow-stop.ts', { STOP_TIMEOUT_MS: '300' });
    await service.waitFor(/ready in/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 3, signal: null });
    expect(service.output()).toMatch(
      /stop did not finish within 300 ms \(still running: sluggish \(stop\)\)/,
    );
  });

  it('forces the exit on a second signal during a slow stop', async () => {
    const service = start('test/functional/lifecycle/fixtures/slow-stop.ts', { SLOW_STOP_MS: '20000' });
    await service.waitFor(/ready in/);
    service.child.kill('SIGTERM');
    await service.waitFor(/sluggish stopping/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 3, signal: null });
    expect(service.output()).toContain('second SIGTERM while stopping: forcing exit');
  });

  it('exits 2 when a critical task fails', async () => {
    const service = start('test/functional/lifecycle/fixtures/critical-task.ts');
    expect(await service.exited).toEqual({ code: 2, signal: null });
    expect(service.output()).toContain('task watchdog failed: lease lost (critical: stopping the service)');
  });
});
