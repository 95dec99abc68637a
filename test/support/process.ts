import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the output so far once `pattern` appears in stdout or stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript entry point in a real child process, as `npm start` would. */
export function spawnService(entry: string, env: NodeJS.ProcessEnv = {}): ServiceProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', path.resolve(PROJECT_ROOT, entry)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    listeners.forEach((listener) => listener());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output)) return;
        cleanup();
        resolve(output);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${output}`));
      }, timeoutMs);
      const gone = () => {
        cleanup();
        if (pattern.test(output)) resolve(output);
        else reject(new Error(`process exited before ${pattern}; output:\n${output}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', gone);
      };
      listeners.add(check);
      child.once('exit', gone);
      check();
    });
  return { child, output: () => output, waitFor, exited };
}

/** Kills what a test left running, so a failed assertion never leaks a process. */
export function killAll(processes: ServiceProcess[]): void {
  for (const { child } of processes)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
