import { setTimeout as sleep } from 'node:timers/promises';
import { CHAIN_ARROW, GraphError } from '../container/errors';
import { declaredPrototype, type ResourceGraph } from '../container/graph';
import { isAbortError, messageOf } from '../util';
import type { Log } from './log';
import type { Tracing } from '../tracing/tracing';
import type { Meters } from '../metrics';
import type { Clock } from './clock';
import {
  cronMeters,
  cronSchedule,
  runCron,
  type CronDefinition,
  type CronMeters,
  type CronOptions,
  type FleetClaims,
} from './cron';

export interface TaskOptions {
  name?: string;
  /** A critical task that throws stops the service (exit code 2 under `run`). */
  critical?: boolean;
}

export interface TaskTimerOptions extends TaskOptions {
  /** Milliseconds between the starts of two runs. */
  interval?: number;
  /** Run once, then end. */
  oneShot?: boolean;
  /** Run at launch instead of one interval after it. */
  autostart?: boolean;
}

interface TaskDefinition {
  method: string | symbol;
  name: string;
  critical: boolean;
  timer?: Required<Pick<TaskTimerOptions, 'interval' | 'oneShot' | 'autostart'>>;
  cron?: CronDefinition;
}

const definitions = new WeakMap<object, TaskDefinition[]>();

function declare(prototype: object, definition: TaskDefinition): void {
  const own = definitions.get(prototype) ?? [];
  own.push(definition);
  definitions.set(prototype, own);
}

/** A method of the microservice that runs from the end of the start phase until the service stops. */
export function task(options: TaskOptions = {}): MethodDecorator {
  return (prototype, method) => {
    declare(prototype, { method, name: options.name ?? String(method), critical: options.critical ?? false });
  };
}

/** A method run on a fixed schedule, without drift and never overlapping itself. */
export function taskTimer(options: TaskTimerOptions = {}): MethodDecorator {
  const interval = options.interval ?? 1000;
  if (!(interval > 0))
    throw new RangeError(`@taskTimer interval must be a positive number of ms, got ${interval}`);
  return (prototype, method) => {
    declare(prototype, {
      method,
      name: options.name ?? String(method),
      critical: options.critical ?? false,
      timer: { interval, oneShot: options.oneShot ?? false, autostart: options.autostart ?? false },
    });
  };
}

/**
 * A method run at the times a cron expression names (croner's syntax: five fields, or six with
 * seconds first: `'0 *\/5 * * * *'` is every five minutes), each run a root span like a task's.
 * A tick while the previous run is still going is skipped and counted unless `overlap`; with
 * `fleet: 'one'` each tick runs on one instance of the service, the one that claims it in etcd.
 */
export function cron(expression: string, options: CronOptions = {}): MethodDecorator {
  return (prototype, method) => {
    declare(prototype, {
      method,
      name: options.name ?? String(method),
      critical: options.critical ?? false,
      cron: {
        expression,
        timezone: options.timezone,
        overlap: options.overlap ?? false,
        catchUp: options.catchUp ?? false,
        fleet: options.fleet ?? 'all',
      },
    });
  };
}

/** The names of the service's `fleet: 'one'` schedules: they need etcd. */
export function fleetSchedules(graph: ResourceGraph): string[] {
  return definitionsOfPrototype(declaredPrototype(graph.service))
    .filter((definition) => definition.cron?.fleet === 'one')
    .map((definition) => definition.name);
}

function definitionsOf(instance: object): TaskDefinition[] {
  return definitionsOfPrototype(Object.getPrototypeOf(instance) as object | null);
}

function definitionsOfPrototype(prototype: object | null): TaskDefinition[] {
  const all: TaskDefinition[] = [];
  for (let proto = prototype; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    all.push(...(definitions.get(proto) ?? []));
  }
  return all;
}

/**
 * A graph check, run before any constructor: tasks belong to the microservice (a resource's loop
 * runs from its start hook, so that a restart of the resource restarts it too), and each task
 * name is the one key its stop is awaited by.
 */
export function checkTaskDeclarations(graph: ResourceGraph): void {
  for (const node of graph.nodes) {
    const declared = definitionsOfPrototype(declaredPrototype(node));
    if (declared.length === 0) continue;
    const where = node.chain.join(CHAIN_ARROW);
    if (node.kind !== 'service') {
      const shown = declared.map((definition) => String(definition.method)).join(', ');
      throw new GraphError(
        'MISPLACED_TASK',
        `${where}: resource '${node.name}' declares ${declared.some((definition) => definition.cron !== undefined) ? '@task/@taskTimer/@cron' : '@task/@taskTimer'} (${shown}), which only a @microservice runs; ` +
          "move the method to the microservice, or run the loop from the resource's start hook and end it in its stop hook",
        node.chain,
      );
    }
    const methodByName = new Map<string, string | symbol>();
    for (const definition of declared) {
      const other = methodByName.get(definition.name);
      if (other !== undefined) {
        throw new GraphError(
          'DUPLICATE_NAME',
          `${where}: two tasks are named '${definition.name}' (methods ${String(other)} and ${String(definition.method)}); ` +
            'give each its own { name }',
          node.chain,
        );
      }
      methodByName.set(definition.name, definition.method);
      if (definition.cron !== undefined)
        checkCron(definition.cron, `${where}.${String(definition.method)}`, node.chain);
    }
  }
}

function checkCron(definition: CronDefinition, where: string, chain: readonly string[]): void {
  try {
    // A time zone croner does not know fails only when a time is asked for.
    cronSchedule(definition).nextRun();
  } catch (error) {
    const zone = definition.timezone === undefined ? '' : `, { timezone: '${definition.timezone}' }`;
    throw new GraphError(
      'INVALID_CRON',
      `${where}: @cron('${definition.expression}'${zone}) is not a schedule: ${messageOf(error)}`,
      chain,
    );
  }
}

/** A task's method; a cron run is also given the time of its tick. */
type TaskFunction = (signal: AbortSignal, tick?: Date) => unknown;

/** What the runner needs for cron schedules beyond the tasks: their clock, meters and fleet claims. */
export interface CronSupport {
  clock: Clock;
  meters: Meters;
  /** Made on the first tick of a `fleet: 'one'` schedule. */
  fleet(): FleetClaims;
}

/** Launches the service's tasks and, on stop, aborts them and waits for them before resources stop. */
export class TaskRunner {
  private controller = new AbortController();
  private readonly running = new Map<string, Promise<void>>();
  private cronMeters?: CronMeters;
  private fleet?: FleetClaims;

  constructor(
    private readonly log: Log,
    private readonly onCriticalFailure: (taskName: string, error: unknown) => void,
    private readonly tracing: Tracing,
    private readonly cronSupport?: CronSupport,
  ) {}

  launch(service: object): void {
    this.controller = new AbortController();
    const { signal } = this.controller;
    for (const definition of definitionsOf(service)) {
      const fn = traced(
        this.tracing,
        definition.name,
        (service as Record<string | symbol, TaskFunction>)[definition.method].bind(service),
      );
      const body = definition.cron
        ? () => this.runCron(definition, fn, signal)
        : definition.timer
          ? () => runOnSchedule(fn, definition, signal, this.log)
          : () => fn(signal);
      const done = Promise.resolve()
        .then(body)
        .then(
          () => this.log.debug({ task: definition.name }, `task ${definition.name} ended`),
          (error: unknown) => this.failed(definition, error, signal),
        )
        .finally(() => this.running.delete(definition.name));
      this.running.set(definition.name, done);
    }
  }

  names(): string[] {
    return [...this.running.keys()];
  }

  private runCron(definition: TaskDefinition, fn: TaskFunction, signal: AbortSignal): Promise<void> {
    const support = this.cronSupport;
    if (support === undefined) throw new Error(`cron ${definition.name}: this runner has no clock`);
    this.cronMeters ??= cronMeters(support.meters);
    return runCron(
      {
        name: definition.name,
        definition: definition.cron!,
        schedule: cronSchedule(definition.cron!),
        run: async (runSignal, tick) => fn(runSignal, tick),
        clock: support.clock,
        log: this.log,
        meters: this.cronMeters,
        fleet: () => (this.fleet ??= support.fleet()),
        critical: definition.critical,
        failed: (error) => this.onCriticalFailure(definition.name, error),
      },
      signal,
    );
  }

  /** Aborts every task and waits at most `timeoutMs`; resolves with the names of tasks still running. */
  async stop(timeoutMs: number): Promise<string[]> {
    this.controller.abort();
    if (this.running.size > 0) {
      const timeout = new AbortController();
      await Promise.race([
        Promise.allSettled(this.running.values()),
        sleep(timeoutMs, undefined, { signal: timeout.signal }).catch(() => undefined),
      ]);
      timeout.abort();
    }
    const fleet = this.fleet;
    this.fleet = undefined;
    await fleet?.close();
    return this.names();
  }

  private failed(definition: TaskDefinition, error: unknown, signal: AbortSignal): void {
    if (signal.aborted && isAbortError(error)) return;
    this.log.error(
      { task: definition.name, err: error },
      `task ${definition.name} failed: ${messageOf(error)}${definition.critical ? ' (critical: stopping the service)' : ''}`,
    );
    if (definition.critical) this.onCriticalFailure(definition.name, error);
  }
}

/** Each run of a task (each tick of a timer) as the root span of a trace of its own. */
function traced(tracing: Tracing, name: string, fn: TaskFunction): TaskFunction {
  if (!tracing.enabled) return fn;
  return (signal, tick) =>
    tracing.runAndEnd(
      tracing.startScope(`task ${name}`, { parent: 'root', attributes: { 'keel.task': name } }),
      // Aborted by the stop as it should be: not a failed run.
      () =>
        Promise.resolve(fn(signal, tick)).catch((error: unknown) => {
          if (!(signal.aborted && isAbortError(error))) throw error;
        }),
    );
}

async function runOnSchedule(
  fn: TaskFunction,
  definition: TaskDefinition,
  signal: AbortSignal,
  log: Log,
): Promise<void> {
  const { interval, oneShot, autostart } = definition.timer!;
  const origin = performance.now();
  let tick = autostart ? 0 : 1;
  while (!signal.aborted) {
    const wait = origin + tick * interval - performance.now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return;
      }
    }
    try {
      await fn(signal);
    } catch (error) {
      if (signal.aborted) return;
      if (definition.critical) throw error;
      log.error({ task: definition.name, err: error }, `task ${definition.name} failed: ${messageOf(error)}`);
    }
    if (oneShot) return;
    // The next tick on the original grid: a slow run skips the ticks it overlapped instead of piling up.
    tick = Math.max(tick + 1, Math.floor((performance.now() - origin) / interval) + 1);
  }
}
