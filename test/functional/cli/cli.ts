import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT, spawnService, type ServiceProcess } from '../../support/process';

export const CLI_ENTRY = path.join(PROJECT_ROOT, 'lib/cli/main.ts');
export const FIXTURES = path.join(__dirname, 'fixtures');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; `code` is its exit code. */
export function exec(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The `keel` command from the sources, in a child process (the project root holds the loader's tsconfig). */
export function keel(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return exec(process.execPath, ['-r', '@swc-node/register', CLI_ENTRY, ...args], { env });
}

/** A long-running `keel` command (`run`, `run --watch`), stopped by the test with a signal. */
export function startKeel(args: readonly string[], env: NodeJS.ProcessEnv = {}): ServiceProcess {
  return spawnService(CLI_ENTRY, env, args);
}
