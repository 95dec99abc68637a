import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../bench/fixtures/http-processes';
import { PROJECT_ROOT } from '../../support/process';
import { send } from '../../unit/http/requests';

// system.logging.stdout_max_queue_bytes' default: the test sets nothing, so that it shows the
// growth against a Keel without the bound as well.
const MAX_QUEUE_BYTES = 8 * 1024 * 1024;
const fixture = path.join(__dirname, 'fixtures', 'flood.ts');

/** Resolves once `check` holds, polled on every stderr line of the child; rejects after `timeoutMs`. */
function until(child: ChildProcess, check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (!check()) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    }, 20);
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

describe('a service whose stdout is a pipe held open and not read (child process)', () => {
  let child: ChildProcess;
  let reportPort: number;
  const queued: number[] = [];
  let stdout = '';
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  beforeAll(async () => {
    reportPort = await freePort();
    child = spawn(process.execPath, ['-r', '@swc-node/register', fixture], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: String(reportPort),
        // Far longer than the test waits for the exit: an exit within it is not a forced one.
        KEEL__SYSTEM__LIFECYCLE__STOP_TIMEOUT_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pause();
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const match = /^queued (\d+)$/.exec(line);
        if (match !== null) queued.push(Number(match[1]));
      }
    });
    child.on('exit', (code, signal) => (exit = { code, signal }));
  });

  afterAll(() => {
    if (exit === undefined) child.kill('SIGKILL');
    child.stdout!.resume();
  });

  const saturatedReports = () => queued.filter((bytes) => bytes > MAX_QUEUE_BYTES / 2).length;

  it('holds at most system.logging.stdout_max_queue_bytes (default) of log, dropping and counting the rest', async () => {
    await until(child, () => saturatedReports() >= 20, 'queue of stdout filling up');
    expect(Math.max(...queued)).toBeLessThanOrEqual(MAX_QUEUE_BYTES);
    const metrics = (await send(reportPort, '/metrics')).body;
    const dropped = /flood_logging_dropped_records\{stream="stdout"\} (\d+)/.exec(metrics);
    expect(Number(dropped?.[1])).toBeGreaterThan(0);
  }, 30_000);

  it('writes one line with the count of dropped records once the pipe is read again', async () => {
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdout!.resume();
    await until(
      child,
      () => /stdout was not read fast enough: \d+ log record\(s\) dropped[^\n]*\n/.test(stdout),
      'drop line',
    );
    const line = stdout
      .split('\n')
      .find((candidate) => candidate.includes('stdout was not read fast enough'))!;
    expect(JSON.parse(line)).toMatchObject({
      stream: 'stdout',
      dropped: expect.any(Number),
      levelname: 'WARNING',
    });
  }, 30_000);

  it('exits 0 on SIGTERM while stdout is held and not read', async () => {
    child.stdout!.pause();
    const before = queued.length;
    await until(
      child,
      () => queued.slice(before).some((bytes) => bytes > MAX_QUEUE_BYTES / 2),
      'queue filling again',
    );
    child.kill('SIGTERM');
    await until(child, () => exit !== undefined, 'exit with stdout unread');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(
      /stdout took nothing for 1000 ms: \d+ log record\(s\) \(\d+ bytes\) it holds are counted as dropped/,
    );
  }, 30_000);
});
