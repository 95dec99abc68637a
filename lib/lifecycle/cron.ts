import type { Cron as CronJob } from 'croner';
import { requirePeer } from '../errors/peer';
import type { Counter, Meters } from '../metrics';
import type { Clock } from './clock';
import { isAbortError, messageOf } from '../util';
import type { Log } from './log';

export interface CronOptions {
  name?: string;
  /** An IANA time zone the expression is read in (`Europe/Madrid`); the process's own unless given. */
  timezone?: string;
  /** A tick while the previous run is still going starts another run beside it (default false: the tick is skipped and counted). */
  overlap?: boolean;
  /** With overlap false: the last tick skipped during a run is run once that run ends (default false). */
  catchUp?: boolean;
  /**
   * `one`: each tick runs on one instance of the service only, the one that claims it first in etcd
   * (`KEEL_ETCD_*`); `all` (default): on every instance.
   */
  fleet?: 'all' | 'one';
  /** A run that throws stops the service (exit code 2 under `run`). */
  critical?: boolean;
}

export interface CronDefinition {
  expression: string;
  timezone?: string;
  overlap: boolean;
  catchUp: boolean;
  fleet: 'all' | 'one';
}

type CronerModule = typeof import('croner');

let croner: CronerModule | undefined;

/** The schedule of an expression (croner, a dependency required on the first one); throws croner's error for a bad one. */
export function cronSchedule(definition: CronDefinition): CronJob {
  croner ??= requirePeer<CronerModule>('croner', (cause) => cause);
  return new croner.Cron(definition.expression, { paused: true, timezone: definition.timezone });
}

/** Decides which instance runs a tick of a `fleet: 'one'` schedule. */
export interface FleetClaims {
  /** True when this instance won the tick at `tickMs` of `task`; a throw means it could not ask. */
  claim(task: string, tickMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export type CronOutcome = 'ok' | 'error' | 'skipped' | 'elsewhere' | 'unclaimed';

export interface CronMeters {
  runs(task: string, outcome: CronOutcome): Counter;
}

export function cronMeters(meters: Meters): CronMeters {
  const runs = meters.counter('cron_runs_total', {
    help: 'Ticks of each @cron schedule by outcome: ok, error, skipped (the previous run still going), elsewhere (another instance claimed it), unclaimed (etcd did not answer the claim)',
    labelNames: ['task', 'outcome'],
  });
  return { runs: (task, outcome) => runs.labels({ task, outcome }) };
}

export interface CronRun {
  name: string;
  definition: CronDefinition;
  schedule: CronJob;
  run(signal: AbortSignal, tick: Date): Promise<unknown>;
  clock: Clock;
  log: Log;
  meters: CronMeters;
  fleet?: () => FleetClaims;
  /** A critical schedule's failure: the runner stops the service. */
  failed(error: unknown): void;
  critical: boolean;
}

/**
 * Runs a cron schedule until `signal` aborts, then waits for the runs in flight. Ticks are read off
 * the clock, never counted from the previous run, so a slow run does not shift the grid.
 */
export async function runCron(cron: CronRun, signal: AbortSignal): Promise<void> {
  const { name, definition, clock, log, meters } = cron;
  const inFlight = new Set<Promise<void>>();
  let pending: number | undefined;
  const runTick = (tick: number): Promise<void> => {
    const done = (async () => {
      if (definition.fleet === 'one') {
        let won: boolean;
        try {
          won = await cron.fleet!().claim(name, tick);
        } catch (error) {
          meters.runs(name, 'unclaimed').inc();
          log.warn(
            { task: name, tick: new Date(tick).toISOString(), reason: messageOf(error) },
            `cron ${name}: the tick of ${new Date(tick).toISOString()} is not run: its claim in etcd failed: ${messageOf(error)}`,
          );
          return;
        }
        if (!won) {
          meters.runs(name, 'elsewhere').inc();
          return;
        }
      }
      if (signal.aborted) return;
      try {
        await cron.run(signal, new Date(tick));
        meters.runs(name, 'ok').inc();
      } catch (error) {
        if (signal.aborted && isAbortError(error)) return;
        meters.runs(name, 'error').inc();
        log.error({ task: name, err: error }, `cron ${name} failed: ${messageOf(error)}`);
        if (cron.critical) cron.failed(error);
      }
    })();
    inFlight.add(done);
    void done.finally(() => {
      inFlight.delete(done);
      if (pending !== undefined && inFlight.size === 0 && !signal.aborted) {
        const tick = pending;
        pending = undefined;
        void runTick(tick);
      }
    });
    return done;
  };
  let previous = clock.now();
  while (!signal.aborted) {
    const next = cron.schedule.nextRun(new Date(previous));
    if (next === null) break;
    const tick = next.getTime();
    const wait = tick - clock.now();
    if (wait > 0) await clock.sleep(wait, signal);
    if (signal.aborted) break;
    previous = tick;
    if (inFlight.size > 0 && !definition.overlap) {
      meters.runs(name, 'skipped').inc();
      log.warn(
        { task: name, tick: new Date(tick).toISOString() },
        `cron ${name}: the tick of ${new Date(tick).toISOString()} is skipped: the previous run is still going`,
      );
      if (definition.catchUp) pending = tick;
      continue;
    }
    void runTick(tick);
  }
  pending = undefined;
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}
