import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../../../lib';
import { closedPort } from '../../support/etcd';
import { killAll, PROJECT_ROOT, spawnService, type ServiceProcess } from '../../support/process';

// Each test spawns Node with swc, which takes seconds on a loaded machine.
jest.setTimeout(30_000);

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
    // The record of the failure keeps the resource's own error: its code and where it was thrown.
    const record = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map(
        (line) =>
          JSON.parse(line) as { msg: string; err?: { code?: string; stack?: string; cause?: unknown } },
      )
      .find((line) => line.msg.startsWith('failed to start'));
    expect(record?.err).toMatchObject({
      code: 'HOOK_FAILED',
      cause: { name: 'Error', message: 'broker unreachable at 127.0.0.1:1', code: 'ECONNREFUSED' },
    });
    expect(record?.err?.stack).toMatch(
      /\nCaused by: Error: broker unreachable at 127\.0\.0\.1:1\n +at Broker\./,
    );
  });

  it('masks a secret that the start failure quotes, though the rollback closed the settings first', async () => {
    const service = start('test/functional/lifecycle/fixtures/start-fails-secret.ts', {
      KEEL__SYSTEM__RESOURCES__VAULT__WORD: 'zebra-horse-42',
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
    });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.output()).toContain(
      "resource 'vault' failed in start: cannot open the vault with [redacted]",
    );
    expect(service.output()).not.toContain('zebra-horse-42');
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

  it('keeps a service that holds nothing open running until a signal, then runs its stop hooks', async () => {
    const service = start('test/functional/lifecycle/fixtures/quiet.ts');
    await service.waitFor(/quiet ready in/);
    // A service that run() did not hold open would have exited by the time this SIGTERM lands.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(service.child.exitCode).toBeNull();
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.output()).toContain('idle stopped');
  });

  it('gives a task that ignores its AbortSignal only its share of the stop timeout, names it, and stops the resources', async () => {
    const service = start('test/functional/lifecycle/fixtures/stubborn-task.ts');
    await service.waitFor(/ready in/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 1, signal: null });
    const output = service.output();
    expect(output).toContain('task(s) spin still running 1000 ms after their AbortSignal fired');
    expect(output).toContain('store stopped');
    expect(output).not.toContain('forcing exit');
  });

  it('exits with the code the README gives for an uncaught exception or unhandled rejection, after stopping', async () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const row = readme
      .split('\n')
      .find((line) => /^\| \d \|.*uncaught exception.*unhandled rejection/.test(line));
    expect(row).toBeDefined();
    const documented = Number(/^\| (\d) \|/.exec(row!)![1]);
    expect(documented).toBe(ExitCode.FAILED);
    for (const crash of ['exception', 'rejection']) {
      const service = start('test/functional/lifecycle/fixtures/crash.ts', { CRASH: crash });
      expect(await service.exited).toEqual({ code: documented, signal: null });
      expect(service.output()).toContain('fragile stopped');
    }
  });
});

describe('a signal while starting', () => {
  it('cancels the start at once, rolls back what started and exits 3 naming the hook still running', async () => {
    const service = start('test/functional/lifecycle/fixtures/slow-start.ts', { STOP_TIMEOUT_MS: '500' });
    await service.waitFor(/slow starting/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 3, signal: null });
    const output = service.output();
    expect(output).toMatch(/stop did not finish within 500 ms \(still running: slow \(start\)\)/);
    expect(output).toContain('slow_start start cancelled: SIGTERM received');
    // Bounded: a start hook that never ends holds up what it depends on for only the tasks' share.
    expect(output).toContain('start hook(s) slow (start) still running 250 ms after the cancel');
    expect(output).toContain('database stopped');
    expect(output).not.toContain('announcer postStart ran');
    expect(output).not.toContain('listening on');
  });

  it('waits for a start hook still running at the cancel before stopping what it depends on, and runs no later phase', async () => {
    const service = start('test/functional/lifecycle/fixtures/slow-start.ts', { SLOW_START_MS: '300' });
    await service.waitFor(/slow starting/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    const output = service.output();
    // slow depends on database: reverse order, though slow's start was still running at the signal.
    expect(output.indexOf('slow start ended')).toBeGreaterThanOrEqual(0);
    expect(output.indexOf('slow stopped')).toBeGreaterThan(output.indexOf('slow start ended'));
    expect(output.indexOf('database stopped')).toBeGreaterThan(output.indexOf('slow stopped'));
    expect(output).not.toContain('announcer postStart ran');
    expect(output).not.toContain('listening on');
  });

  it('gives up the wait for etcd at once and exits 0', async () => {
    const service = start('test/functional/lifecycle/fixtures/quiet.ts', {
      KEEL_ETCD_HOSTS: `127.0.0.1:${await closedPort()}`,
      // Far longer than the test's own timeout: only a cancelled wait lets this test pass.
      KEEL_ETCD_WAIT_MS: '600000',
    });
    await service.waitFor(/run called/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.output()).toContain('start cancelled by SIGTERM before the service was built');
    expect(service.output()).not.toContain('quiet ready in');
  });
});
