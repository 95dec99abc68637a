import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, type Command } from './command';
import { UsageError, type CliIo } from './io';

/** Changes closer together than this are one change: an editor's save, a `git checkout`. */
export const WATCH_DEBOUNCE_MS = 150;
const IGNORED_SEGMENTS = new Set(['node_modules', 'dist', '.git', 'coverage']);

export const runCommand: Command = {
  words: ['run'],
  synopsis: '<file> [--watch] [--watch-path <dir>]...',
  summary: 'start the microservice a file exports, as run() does (signals, exit codes)',
  details: `The file exports a class decorated with @microservice (or has it as its default export),
or calls run() itself (a main.ts), which then owns the process as it would under node.
.ts files go through @swc-node/register, found in the project or beside Keel.

  --watch              restart on every change under the file's folder, src/ and config/ (those of
                       the current folder, where they exist): the running instance stops gracefully
                       first (its stop hooks run); bursts of changes make one restart. Exits when
                       interrupted (SIGINT/SIGTERM), with the exit code of the last instance.
  --watch-path <dir>   watch this folder too (repeatable): shared code outside src/, say`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, {
      watch: { type: 'boolean' },
      'watch-path': { type: 'string', multiple: true },
    });
    if (positionals.length !== 1) throw new UsageError('run needs exactly one file');
    const [file] = positionals;
    const extra = values['watch-path'] ?? [];
    if (extra.length > 0 && values.watch !== true) throw new UsageError('--watch-path needs --watch');
    if (values.watch) return watchAndRestart(file, extra, io);
    // Loaded here, not at the top: `keel --version` and `keel help` need none of the framework.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadService } = require('./load-service') as typeof import('./load-service');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { run, runStarted } = require('../lifecycle/run') as typeof import('../lifecycle/run');
    if (process.env[WATCHED_ENV] === '1') stopWhenWatcherGoes();
    let Service: ReturnType<typeof loadService> | undefined;
    try {
      Service = loadService(file, process.cwd());
    } catch (error) {
      if (!runStarted()) throw error;
    }
    // A main.ts that calls run() itself: that run owns the signals and the exit code; a second
    // one would start the service twice.
    if (Service === undefined || runStarted()) return new Promise<never>(() => undefined);
    return run(Service);
  },
};

const WATCHED_ENV = 'KEEL_RUN_WATCHED';

/** Those that exist, without one inside another (its changes reach the outer watch already). */
function watchedFolders(candidates: readonly string[]): string[] {
  const existing = [...new Set(candidates)].filter((folder) => existsSync(folder));
  const inside = (folder: string, outer: string) => {
    const relative = path.relative(outer, folder);
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  };
  return existing.filter((folder) => !existing.some((outer) => inside(folder, outer)));
}

/** An instance outlives no watcher: in its own process group, nothing else would stop it. */
function stopWhenWatcherGoes(): void {
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/**
 * The watching process runs no service itself: each instance is a child `keel run <file>`, so a
 * restart gets fresh modules, and a stop is the same SIGTERM a deployment sends.
 */
async function watchAndRestart(file: string, extra: readonly string[], io: CliIo): Promise<number> {
  const cwd = process.cwd();
  if (!existsSync(path.resolve(cwd, file))) throw new UsageError(`${file}: no such file`);
  for (const folder of extra)
    if (!existsSync(path.resolve(cwd, folder)))
      throw new UsageError(`--watch-path ${folder}: no such folder`);
  const folders = watchedFolders([
    path.dirname(path.resolve(cwd, file)),
    path.resolve(cwd, 'src'),
    path.resolve(cwd, 'config'),
    ...extra.map((folder) => path.resolve(cwd, folder)),
  ]);
  const note = (message: string) => io.err.write(`keel run --watch: ${message}\n`);

  let child: ChildProcess | undefined;
  let lastCode = 0;
  let exited: Promise<void> = Promise.resolve();
  let stopping = false;
  /** Instances this process stopped: their exit is expected, not news. */
  const stopped = new WeakSet<ChildProcess>();
  const start = () => {
    const instance = spawn(process.execPath, [...process.execArgv, process.argv[1], 'run', file], {
      cwd,
      env: { ...process.env, [WATCHED_ENV]: '1' },
      // The IPC channel tells the instance when the watcher is gone, even by SIGKILL (see stopWhenWatcherGoes).
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      // Its own process group: a Ctrl-C in the terminal reaches only this process, which then
      // stops the instance once, instead of the instance taking a second signal as a forced exit.
      detached: true,
    });
    child = instance;
    exited = new Promise((resolve) =>
      instance.once('exit', (code, signal) => {
        lastCode = code ?? (signal === null ? 1 : 128);
        if (child === instance) child = undefined;
        if (!stopped.has(instance))
          note(`instance ${instance.pid} exited with ${code ?? signal}; waiting for a change`);
        resolve();
      }),
    );
  };
  const stopInstance = async () => {
    const running = child;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      stopped.add(running);
      running.kill('SIGTERM');
    }
    await exited;
  };

  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> = Promise.resolve();
  const changed: string[] = [];
  const onChange = (folder: string, name: string | null) => {
    if (name === null || name.split(path.sep).some((segment) => IGNORED_SEGMENTS.has(segment))) return;
    changed.push(path.relative(cwd, path.join(folder, name)));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...new Set(changed.splice(0))];
      restarting = restarting.then(async () => {
        if (stopping) return;
        note(`${files.join(', ')} changed: restarting`);
        await stopInstance();
        if (!stopping) start();
      });
    }, WATCH_DEBOUNCE_MS);
  };
  const watchers: FSWatcher[] = folders.map((folder) =>
    watch(folder, { recursive: true }, (_event, name) => onChange(folder, name)),
  );
  note(`watching ${folders.map((folder) => path.relative(cwd, folder) || '.').join(', ')}`);
  start();

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stopping = true;
  clearTimeout(timer);
  for (const watcher of watchers) watcher.close();
  await restarting;
  await stopInstance();
  return lastCode;
}
