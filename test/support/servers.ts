import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for suites that need a server binary. Without it: a failing test under CI=true,
 * otherwise the suite is skipped with one loud line naming the package to install.
 */
export function describeWithServer(
  name: string,
  server: { present: boolean; missing: string; debianPackage: string },
  body: () => void,
): void {
  if (server.present) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it(`finds ${server.debianPackage}`, () => {
        throw new Error(`${server.missing}: install the Debian package ${server.debianPackage}`);
      });
    });
  } else {
    console.warn(
      `!!! SKIPPING "${name}": ${server.missing}. Install it: apt-get install -y ${server.debianPackage} !!!`,
    );
    describe.skip(name, body);
  }
}

/** Signals a child's whole process group (it was spawned detached), then the child itself. */
export function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
  child.kill(signal);
}

/** Server processes must not outlive a crashed test run. */
const stopOnExit = new Set<ChildProcess>();
let hooked = false;

export function killOnExit(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const tracked of stopOnExit) killTree(tracked, 'SIGKILL');
    });
  }
  stopOnExit.add(child);
  child.once('exit', () => stopOnExit.delete(child));
}

/** Resolves once the child has exited; SIGKILL after `graceMs` if `signal` did not end it. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs = 20_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  killTree(child, signal);
  const forced = setTimeout(() => killTree(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(forced);
}

/** Polls `probe` until it is true, the child exits, or the timeout: the server's own output in the error. */
export async function waitServer(
  what: string,
  child: ChildProcess,
  probe: () => Promise<boolean>,
  output: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not become ready:\n${output()}`);
}
