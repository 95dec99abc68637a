import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  /** stdout and stderr as received, with each JSON log record followed by its message and error in plain text. */
  output(): string;
  /** Resolves with the output so far once `pattern` appears in stdout or stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript entry point in a real child process, as `npm start` would. */
export function spawnService(
  entry: string,
  env: NodeJS.ProcessEnv = {},
  args: readonly string[] = [],
  options: SpawnOptions = {},
): ServiceProcess {
  return spawnNode(
    ['-r', '@swc-node/register', path.resolve(PROJECT_ROOT, entry), ...args],
    PROJECT_ROOT,
    env,
    options,
  );
}

export interface SpawnOptions {
  /** The child's soft limit of open files (`ulimit -n`), set by a shell that then execs node. */
  maxOpenFiles?: number;
}

/** Runs `node <args>` in `cwd` (a compiled entry point in a user's project, say). */
export function spawnNode(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  options: SpawnOptions = {},
): ServiceProcess {
  const [command, argv] =
    options.maxOpenFiles === undefined
      ? [process.execPath, args]
      : [
          '/bin/sh',
          ['-c', `ulimit -n ${options.maxOpenFiles} && exec "$@"`, 'sh', process.execPath, ...args],
        ];
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const lines = (pending[stream] + chunk.toString()).split('\n');
    pending[stream] = lines.pop()!;
    for (const line of lines) output += readable(line);
    listeners.forEach((listener) => listener());
  };
  child.stdout!.on('data', collect('stdout'));
  child.stderr!.on('data', collect('stderr'));
  // 'close' comes after stdout and stderr ended, so the output is complete when `exited` resolves.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      for (const stream of ['stdout', 'stderr'] as const)
        if (pending[stream] !== '') output += readable(pending[stream]);
      resolve({ code, signal });
    }),
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
        child.off('close', gone);
      };
      listeners.add(check);
      child.once('close', gone);
      check();
    });
  return { child, output: () => output, waitFor, exited };
}

/** A log line as it came, and for a bunyan record also its message and error unescaped. */
function readable(line: string): string {
  if (!line.startsWith('{')) return `${line}\n`;
  try {
    const record = JSON.parse(line) as { msg?: unknown; err?: { stack?: string; message?: string } };
    const error = record.err?.stack ?? record.err?.message;
    return `${line}\n  ${String(record.msg)}${error === undefined ? '' : `\n  ${error}`}\n`;
  } catch {
    return `${line}\n`;
  }
}

/** Kills what a test left running, so a failed assertion never leaks a process. */
export function killAll(processes: ServiceProcess[]): void {
  for (const { child } of processes)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
