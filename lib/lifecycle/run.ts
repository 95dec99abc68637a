import { microserviceOptionsOf } from '../container/decorators';
import type { ResourceClass } from '../container/provider';
import type { App } from './app';
import { createMicroservice, type CreateOptions } from './create';
import { createProvisionalLogging } from '../logging';
import { enableCompileCache } from '../startup/compile-cache';
import { retainSecretValues } from '../settings/redact';
import { LifecycleError } from './errors';
import { messageOf } from '../util';
import type { Microservice } from './microservice';
import { lifecycleSchema } from './settings';

/** How long the last records may take to reach remote streams before a forced exit goes anyway. */
const FORCED_EXIT_FLUSH_MS = 1000;

/**
 * Set on `process` by the first `run()`: a process has one owner of its signals and exit code, and
 * `keel run` on a file that calls `run()` itself must not start a second one. A global symbol, not
 * module state, so that two copies of Keel in one process (a global `keel` command, the project's
 * own Keel) see the same mark.
 */
const RUN_STARTED = Symbol.for('keel.run.started');
/**
 * Set while a `keel` command that only reads a service (graph, openapi, asyncapi, settings) loads
 * its file: a `run()` called then records the class and starts nothing, so a main.ts is drawn, not
 * started. Global for the same reason as RUN_STARTED.
 */
const RUN_RECORDED = Symbol.for('keel.run.recorded');
const marked = process as NodeJS.Process & {
  [RUN_STARTED]?: true;
  [RUN_RECORDED]?: Array<ResourceClass<Microservice>>;
};

/** True once `run()` was called in this process. */
export function runStarted(): boolean {
  return marked[RUN_STARTED] === true;
}

/**
 * Calls `load` with `run()` recording instead of starting; returns what `load` returned and the
 * classes given to `run()` meanwhile (a `run()` after an `await` in the file is not seen).
 */
export function recordingRun<T>(load: () => T): { loaded: T; ran: Array<ResourceClass<Microservice>> } {
  const ran: Array<ResourceClass<Microservice>> = [];
  const outer = marked[RUN_RECORDED];
  marked[RUN_RECORDED] = ran;
  try {
    return { loaded: load(), ran };
  } finally {
    marked[RUN_RECORDED] = outer;
  }
}

/** Exit codes of a process started with `run`. */
export const ExitCode = {
  CLEAN: 0,
  /** Failed to start (graph, settings or hook error), a stop hook failed, or an uncaught exception or unhandled rejection stopped it. */
  FAILED: 1,
  /** Stopped by a critical task or a restart policy. */
  STOPPED_BY_POLICY: 2,
  /** Forced out: the stop timeout ran out, or a second signal arrived while stopping. */
  FORCED: 3,
} as const;

/**
 * For `main.ts`: starts the service, stops it gracefully on SIGTERM or SIGINT, and exits with
 * the codes of `ExitCode`. Use `createMicroservice` instead to keep control of the process.
 */
export async function run(
  Service: ResourceClass<Microservice>,
  options: Omit<CreateOptions, 'log' | 'logging' | 'signal'> = {},
): Promise<never> {
  const recording = marked[RUN_RECORDED];
  if (recording !== undefined) {
    recording.push(Service);
    return new Promise<never>(() => undefined);
  }
  marked[RUN_STARTED] = true;
  // Here and in the `keel` command, never on import: it is the process's, and a library must not take it.
  enableCompileCache(options.env ?? process.env);
  // Made here, not by the app, so that the last lines (a failed start, the exit) reach every stream.
  const logging = createProvisionalLogging({
    serviceName: microserviceOptionsOf(Service)?.name || Service.name,
  });
  const log = logging.logger;
  // Holds the process open until the exit, even for a service whose resources open no socket or timer.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let exiting = false;
  const exit = (code: number, flushMs?: number): void => {
    if (exiting) return;
    exiting = true;
    clearInterval(keepAlive);
    void logging.close(flushMs).finally(() => process.exit(code));
  };
  let app: App | undefined;
  let signalled: NodeJS.Signals | undefined;
  const creating = new AbortController();

  // The stop timeout starts with the stop, whoever asked for it, or with a signal that cancels the start.
  let watchdog: NodeJS.Timeout | undefined;
  const armWatchdog = (timeoutMs: number): void => {
    watchdog ??= setTimeout(() => {
      const pending = app?.pendingHooks() ?? ['loading settings'];
      log.error(
        { pending, timeoutMs },
        `stop did not finish within ${timeoutMs} ms (still running: ${pending.join(', ') || 'nothing named'}): forcing exit`,
      );
      exit(ExitCode.FORCED, FORCED_EXIT_FLUSH_MS);
    }, timeoutMs);
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      log.error({ signal, pending: app?.pendingHooks() }, `second ${signal} while stopping: forcing exit`);
      return exit(ExitCode.FORCED, FORCED_EXIT_FLUSH_MS);
    }
    signalled = signal;
    armWatchdog(app?.stopTimeoutMs ?? inlineStopTimeoutMs(options));
    // While starting, the request cancels the start: no later phase runs and what started is rolled back.
    if (app !== undefined) app.requestStop(`${signal} received: stopping gracefully`, ExitCode.CLEAN);
    else {
      log.info({ signal }, `${signal} received while loading settings: cancelling the start`);
      creating.abort();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const onCrash = (error: unknown) => {
    log.error({ err: error }, `uncaught error: ${messageOf(error)}; stopping`);
    if (app === undefined) exit(ExitCode.FAILED);
    else app.requestStop(`uncaught error: ${messageOf(error)}`, ExitCode.FAILED);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  try {
    app = await createMicroservice(Service, { ...options, logging, signal: creating.signal });
  } catch (error) {
    if (creating.signal.aborted) {
      log.info({ signal: signalled }, `start cancelled by ${signalled} before the service was built`);
      exit(ExitCode.CLEAN);
    } else {
      log.error({ err: error }, `failed to start: ${messageOf(error)}`);
      exit(ExitCode.FAILED);
    }
    return new Promise<never>(() => undefined);
  }

  const running = app;
  // The rollback of a failed start closes the settings, which stops masking their secrets: the
  // failure is logged after that, and its text may quote one (a DSN in a connection error). Held
  // until the process exits: run() owns it.
  retainSecretValues();
  // A signal while the settings loaded: the app stops before it starts.
  if (signalled !== undefined)
    running.requestStop(`${signalled} received: stopping gracefully`, ExitCode.CLEAN);
  else {
    try {
      await running.start();
    } catch (error) {
      const cancelled = error instanceof LifecycleError && error.code === 'START_CANCELLED';
      if (!cancelled) log.error({ err: error }, `failed to start: ${messageOf(error)}`);
    }
  }

  await running.stopping;
  armWatchdog(running.stopTimeoutMs);
  const outcome = await running.stopped;
  clearTimeout(watchdog);
  exit(outcome.exitCode);
  return new Promise<never>(() => undefined);
}

/** The stop timeout before the settings are loaded: the one given in code, or the default. */
function inlineStopTimeoutMs(options: Pick<CreateOptions, 'settings'>): number {
  const system = options.settings?.system as { lifecycle?: { stop_timeout_ms?: unknown } } | undefined;
  const given = system?.lifecycle?.stop_timeout_ms;
  return typeof given === 'number' ? given : lifecycleSchema.stop_timeout_ms.default;
}
