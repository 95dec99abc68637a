import { microserviceOptionsOf } from '../container/decorators';
import type { ResourceClass } from '../container/provider';
import { createMicroservice, type App, type CreateOptions } from './app';
import { createProvisionalLogging } from '../logging';
import { messageOf } from './errors';
import type { Microservice } from './microservice';

/** How long the last records may take to reach remote streams before a forced exit goes anyway. */
const FORCED_EXIT_FLUSH_MS = 1000;

/** Exit codes of a process started with `run`. */
export const ExitCode = {
  CLEAN: 0,
  /** Failed to start (graph, settings or hook error), or a stop hook failed. */
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
  options: Omit<CreateOptions, 'log' | 'logging'> = {},
): Promise<never> {
  // Made here, not by the app, so that the last lines (a failed start, the exit) reach every stream.
  const logging = createProvisionalLogging({
    serviceName: microserviceOptionsOf(Service)?.name || Service.name,
  });
  const log = logging.logger;
  let exiting = false;
  const exit = (code: number, flushMs?: number): void => {
    if (exiting) return;
    exiting = true;
    void logging.close(flushMs).finally(() => process.exit(code));
  };
  let app: App | undefined;
  let signalled: NodeJS.Signals | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      log.error({ signal, pending: app?.pendingHooks() }, `second ${signal} while stopping: forcing exit`);
      return exit(ExitCode.FORCED, FORCED_EXIT_FLUSH_MS);
    }
    signalled = signal;
    // A signal during start is honoured once the start settles; start() keeps no half-started state.
    if (app !== undefined) app.requestStop(`${signal} received: stopping gracefully`, ExitCode.CLEAN);
    else log.info({ signal }, `${signal} received while starting: stopping once started`);
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
    const created = await createMicroservice(Service, { ...options, logging });
    app = created;
    await created.start();
  } catch (error) {
    log.error({ err: error }, `failed to start: ${messageOf(error)}`);
    exit(ExitCode.FAILED);
    return new Promise<never>(() => undefined);
  }

  const running = app;
  if (signalled !== undefined)
    running.requestStop(`${signalled} received: stopping gracefully`, ExitCode.CLEAN);

  // The stop timeout starts with the stop, whoever asked for it.
  await running.stopping;
  const watchdog = setTimeout(() => {
    const pending = running.pendingHooks();
    log.error(
      { pending, timeoutMs: running.stopTimeoutMs },
      `stop did not finish within ${running.stopTimeoutMs} ms (still running: ${pending.join(', ') || 'tasks'}): forcing exit`,
    );
    exit(ExitCode.FORCED, FORCED_EXIT_FLUSH_MS);
  }, running.stopTimeoutMs);
  const outcome = await running.stopped;
  clearTimeout(watchdog);
  exit(outcome.exitCode);
  return new Promise<never>(() => undefined);
}
