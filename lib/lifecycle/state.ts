import type { LifecycleManager } from './manager';
import type { Microservice } from './microservice';
import type { Announcements } from './announcements';
import type { HookFailure } from './errors';
import type { Log } from './log';
import type { LifecycleSettings } from './settings';
import type { Phase, ServiceState } from './status';
import type { TaskRunner } from './tasks';
import type { Tracing } from '../tracing/tracing';

export interface StopOutcome {
  /** 0 clean stop, 1 a hook failed while stopping, 2 stopped by a critical task or a restart policy. */
  exitCode: number;
  reason: string;
}

/** What the start and the stop sequences share: where the service is, and how its stop came about. */
export class LifecycleState {
  state: ServiceState = 'created';
  /** The phases the service's overrides ran through `super`. */
  readonly phasesRun = new Set<Phase>();
  readonly stopFailures: HookFailure[] = [];
  /** Who asked for the stop (a signal, a critical task, a restart policy), with the exit code. */
  requested?: StopOutcome;
  /** Resolves when a stop begins, whoever asked for it. */
  readonly stopping: Promise<void>;
  /** Resolves once the service has fully stopped, whoever asked for the stop. */
  readonly stopped: Promise<StopOutcome>;
  private resolveStopping!: () => void;
  private resolveStopped!: (outcome: StopOutcome) => void;

  constructor() {
    this.stopping = new Promise((resolve) => (this.resolveStopping = resolve));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  beginStopping(): void {
    this.resolveStopping();
  }

  endStopped(outcome: StopOutcome): void {
    this.resolveStopped(outcome);
  }
}

/** The parts of an app both sequences drive. */
export interface LifecycleParts {
  readonly name: string;
  readonly service: Microservice;
  readonly manager: LifecycleManager;
  readonly tasks: TaskRunner;
  readonly tracing: Tracing;
  readonly log: Log;
  readonly lifecycle: LifecycleSettings;
  readonly state: LifecycleState;
  readonly announcements: Announcements;
}

/** The start's or the stop's trace, while tracing is on: its id, for the log line that ends it. */
export function traceLifecycle(
  parts: LifecycleParts,
  kind: 'start' | 'stop',
  originMs: number,
  beganMs: number,
  phases: readonly Phase[],
  error?: unknown,
): string | undefined {
  if (!parts.tracing.enabled) return undefined;
  return parts.tracing.recordLifecycle(
    { kind, originMs, beganMs, endedMs: performance.now(), phases, resources: parts.manager.report(), error },
    parts.name,
  );
}

export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
