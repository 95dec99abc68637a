import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from './errors';
import type { Log } from './log';

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

function definitionsOf(instance: object): TaskDefinition[] {
  const all: TaskDefinition[] = [];
  for (let proto = Object.getPrototypeOf(instance); proto !== null; proto = Object.getPrototypeOf(proto)) {
    all.push(...(definitions.get(proto) ?? []));
  }
  return all;
}

type TaskFunction = (signal: AbortSignal) => unknown;

/** Launches the service's tasks and, on stop, aborts them and waits for them before resources stop. */
export class TaskRunner {
  private controller = new AbortController();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly log: Log,
    private readonly onCriticalFailure: (taskName: string, error: unknown) => void,
  ) {}

  launch(service: object): void {
    this.controller = new AbortController();
    const { signal } = this.controller;
    for (const definition of definitionsOf(service)) {
      const fn = (service as Record<string | symbol, TaskFunction>)[definition.method].bind(service);
      const body = definition.timer
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

  /** Aborts every task and waits at most `timeoutMs`; resolves with the names of tasks still running. */
  async stop(timeoutMs: number): Promise<string[]> {
    this.controller.abort();
    if (this.running.size === 0) return [];
    const timeout = new AbortController();
    await Promise.race([
      Promise.allSettled(this.running.values()),
      sleep(timeoutMs, undefined, { signal: timeout.signal }).catch(() => undefined),
    ]);
    timeout.abort();
    return this.names();
  }

  private failed(definition: TaskDefinition, error: unknown, signal: AbortSignal): void {
    if (signal.aborted && isAbort(error)) return;
    this.log.error(
      { task: definition.name, err: error },
      `task ${definition.name} failed: ${messageOf(error)}${definition.critical ? ' (critical: stopping the service)' : ''}`,
    );
    if (definition.critical) this.onCriticalFailure(definition.name, error);
  }
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

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
