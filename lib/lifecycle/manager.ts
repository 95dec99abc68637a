import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphNode, ResourceGraph } from '../container/graph';
import type { BreakerReport } from '../resilience/breaker';
import { HookTimeoutError, type HookFailure } from './errors';
import { isPromiseLike, messageOf } from '../util';
import {
  ResourceStatus,
  START_PHASES,
  type HookTiming,
  type Phase,
  type ResourceReport,
  type StartPhase,
  type StopPhase,
} from './status';

type Outcome = HookFailure | undefined;

interface PhasePlan {
  phase: Phase;
  /** Stop phases walk the graph backwards: a resource stops after everything that depends on it. */
  reverse: boolean;
  /** Start phases stop launching hooks at the first failure; stop phases go on so everything gets stopped. */
  failFast: boolean;
  takesPart: (index: number) => boolean;
}

/** What a resource's own `status()` may return: a status, or a status with an explanation. */
/**
 * What a resource's `status()` returns: a status, or a status with its text; `ready: false` turns
 * readiness to 503 while the resource says so (an AMQP connection being re-established, say).
 */
export type ResourceHealth = ResourceStatus | ResourceHealthReport;

/** `details`: what the resource shows of itself in `/status` (a consumer's partitions and lag, say). */
export interface ResourceHealthReport {
  status: ResourceStatus;
  text?: string;
  ready?: boolean;
  /** The circuit breakers of what the resource calls, shown in `/status`. */
  breakers?: readonly BreakerReport[];
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Drives one hook per resource per phase over the dependency graph. A hook runs as soon as the hooks
 * of what it depends on (of its dependents, when stopping) have finished, so independent resources
 * run concurrently and a phase lasts as long as the graph's critical path.
 */
export class LifecycleManager {
  private readonly statuses: ResourceStatus[];
  private readonly errors: (string | undefined)[];
  private readonly timings: Partial<Record<Phase, HookTiming>>[];
  /** Which resources finished preStart and start: what a rollback or a stop has to undo. */
  private readonly preStarted: boolean[];
  private readonly started: boolean[];
  private readonly inflight = new Map<number, Phase>();
  /** Start hooks left running by a cancelled phase; each settles by itself, at the latest on its timeout. */
  private readonly abandoned = new Set<Promise<Outcome>>();
  private cancelled = false;
  private haltPhase?: () => void;
  private origin = performance.now();

  constructor(
    private readonly graph: ResourceGraph,
    private readonly instances: readonly unknown[],
    /** Each node's hook timeout, by index. */
    private readonly hookTimeoutsMs: readonly number[],
  ) {
    const count = graph.nodes.length;
    this.statuses = new Array<ResourceStatus>(count).fill(ResourceStatus.NOT_STARTED);
    this.errors = new Array<string | undefined>(count);
    this.timings = Array.from({ length: count }, () => ({}));
    this.preStarted = new Array<boolean>(count).fill(false);
    this.started = new Array<boolean>(count).fill(false);
  }

  /** From now on hook offsets count from here (`performance.now()`, which it returns). */
  markOrigin(): number {
    this.origin = performance.now();
    return this.origin;
  }

  get originMs(): number {
    return this.origin;
  }

  /**
   * Ends the start phase under way at once, without waiting for the hooks in flight, and refuses
   * every later start phase; `settleAbandoned` waits for the hooks it left behind.
   */
  cancel(): void {
    this.cancelled = true;
    this.haltPhase?.();
  }

  /**
   * Resolves once every start hook a cancel left running has finished or timed out, or once
   * `withinMs` has passed: then with false.
   */
  async settleAbandoned(withinMs?: number): Promise<boolean> {
    if (this.abandoned.size === 0) return true;
    const settled = Promise.all(this.abandoned).then(() => true);
    if (withinMs === undefined) return settled;
    const timeout = new AbortController();
    const outcome = await Promise.race([
      settled,
      sleep(withinMs, false, { signal: timeout.signal }).catch(() => false),
    ]);
    timeout.abort();
    return outcome;
  }

  /** Runs a start phase for every resource (or those of `subset`); resolves with the failures. */
  runStartPhase(phase: StartPhase, subset?: ReadonlySet<number>): Promise<HookFailure[]> {
    if (this.cancelled) return Promise.resolve([]);
    const takesPart = subset === undefined ? () => true : (index: number) => subset.has(index);
    return this.run({ phase, reverse: false, failFast: true, takesPart });
  }

  /** Runs a stop phase for every resource that got far enough to need it, collecting every failure. */
  runStopPhase(phase: StopPhase, subset?: ReadonlySet<number>): Promise<HookFailure[]> {
    const undo = phase === 'stop' ? this.started : this.preStarted;
    const takesPart = (index: number) => undo[index] && (subset === undefined || subset.has(index));
    return this.run({ phase, reverse: true, failFast: false, takesPart });
  }

  /**
   * Stops `subset` in reverse order, then runs its start phases again in order, unless `mayStart`
   * says no by then (the service began stopping meanwhile).
   */
  async restart(subset: ReadonlySet<number>, mayStart: () => boolean): Promise<HookFailure[]> {
    const failures = [
      ...(await this.runStopPhase('stop', subset)),
      ...(await this.runStopPhase('postStop', subset)),
    ];
    if (failures.length > 0 || !mayStart()) return failures;
    for (const phase of START_PHASES) {
      const startFailures = await this.runStartPhase(phase, subset);
      if (startFailures.length > 0) return startFailures;
    }
    return [];
  }

  /** `index` and every resource that depends on it, directly or not. */
  withDependents(index: number): Set<number> {
    const subset = new Set<number>([index]);
    for (const member of subset) {
      for (const dependent of this.graph.nodes[member].dependents) {
        if (this.graph.nodes[dependent].kind !== 'service') subset.add(dependent);
      }
    }
    return subset;
  }

  /** Resources whose hook is running right now, with the phase: what a forced exit reports. */
  pending(): string[] {
    return [...this.inflight].map(([index, phase]) => `${this.graph.nodes[index].name} (${phase})`);
  }

  statusOf(name: string): ResourceStatus | undefined {
    const node = this.graph.byName.get(name);
    return node === undefined ? undefined : this.statuses[node.index];
  }

  report(): ResourceReport[] {
    const reports: ResourceReport[] = [];
    for (const node of this.graph.nodes) {
      if (node.kind === 'service') continue;
      const { status, text, ready, breakers, details } = this.currentStatus(node.index);
      reports.push({
        name: node.name,
        status,
        ...(text !== undefined && { statusText: text }),
        ...(ready === false && { ready }),
        ...(breakers !== undefined && { breakers }),
        ...(details !== undefined && { details }),
        phases: { ...this.timings[node.index] },
        dependsOn: node.dependsOn.map((index) => this.graph.nodes[index].name),
      });
    }
    return reports;
  }

  /**
   * The lifecycle's status, or, once a resource is STARTED, what its own `status()` says: that is
   * how a resource reports FAILED at run time. A `status()` that throws counts as FAILED.
   */
  private currentStatus(index: number): ResourceHealthReport {
    const status = this.statuses[index];
    const own = (this.instances[index] as { status?: unknown } | null | undefined)?.status;
    if (status !== ResourceStatus.STARTED || typeof own !== 'function')
      return { status, text: this.errors[index] };
    try {
      const health = own.call(this.instances[index]) as ResourceHealth;
      return typeof health === 'object' ? health : { status: health };
    } catch (error) {
      return { status: ResourceStatus.FAILED, text: `status() threw: ${messageOf(error)}` };
    }
  }

  private run(plan: PhasePlan): Promise<HookFailure[]> {
    const { nodes } = this.graph;
    const waitsFor = (node: GraphNode) => (plan.reverse ? node.dependents : node.dependsOn);
    const unblocks = (node: GraphNode) => (plan.reverse ? node.dependsOn : node.dependents);
    // Decided once: hooks that finish during the phase change the flags `takesPart` reads.
    const member = nodes.map((node) => plan.takesPart(node.index));
    // No resource has this hook (preStart and postStart, most often): nothing waits for anything.
    if (!nodes.some((node) => member[node.index] && this.hookOf(node, plan.phase) !== undefined)) {
      for (const node of nodes) {
        if (!member[node.index]) continue;
        this.enter(node.index, plan.phase);
        this.leave(node.index, plan.phase, undefined);
      }
      return Promise.resolve([]);
    }
    const pending = new Int32Array(nodes.length);
    // A FIFO queue: among ready resources, the one declared first starts first.
    const ready: number[] = [];
    let head = 0;
    const failures: HookFailure[] = [];
    let remaining = 0;
    let running = 0;
    let halted = false;

    for (const node of nodes) {
      if (!member[node.index]) continue;
      remaining++;
      let blockers = 0;
      for (const other of waitsFor(node)) if (member[other]) blockers++;
      pending[node.index] = blockers;
      if (blockers === 0) ready.push(node.index);
    }

    const inFlight = new Set<Promise<Outcome>>();
    return new Promise((resolve) => {
      const halt = () => {
        halted = true;
        for (const hook of inFlight) {
          this.abandoned.add(hook);
          void hook.then(() => this.abandoned.delete(hook));
        }
        resolve(failures);
      };
      if (plan.failFast) this.haltPhase = halt;
      const finish = (index: number, outcome: Outcome) => {
        remaining--;
        if (outcome !== undefined) {
          failures.push(outcome);
          if (plan.failFast) halted = true;
        }
        for (const next of unblocks(nodes[index])) {
          if (member[next] && --pending[next] === 0) ready.push(next);
        }
      };
      const drain = () => {
        while (!halted && head < ready.length) {
          const index = ready[head++];
          const outcome = this.invoke(index, plan.phase);
          if (outcome instanceof Promise) {
            running++;
            inFlight.add(outcome);
            void outcome.then((settled) => {
              inFlight.delete(outcome);
              running--;
              finish(index, settled);
              drain();
            });
          } else {
            finish(index, outcome);
          }
        }
        if (running === 0 && (halted || remaining === 0)) {
          if (this.haltPhase === halt) this.haltPhase = undefined;
          resolve(failures);
        }
      };
      drain();
    });
  }

  /** Calls one hook; returns synchronously when the resource has no such hook or it is not async. */
  private invoke(index: number, phase: Phase): Outcome | Promise<Outcome> {
    const node = this.graph.nodes[index];
    const instance = this.instances[index];
    const hook = this.hookOf(node, phase);
    this.enter(index, phase);
    if (hook === undefined) return this.leave(index, phase, undefined);

    const begin = performance.now();
    const timed = (error: unknown): Outcome => {
      this.inflight.delete(index);
      this.timings[index][phase] = { offsetMs: begin - this.origin, durationMs: performance.now() - begin };
      return this.leave(index, phase, error);
    };
    let result: unknown;
    try {
      result = hook.call(instance);
    } catch (error) {
      return timed(error ?? new Error(`${phase} threw ${String(error)}`));
    }
    // Any thenable is pending work, as `await` sees it: a hook returning one gets its timeout too.
    if (!isPromiseLike(result)) return timed(undefined);

    this.inflight.set(index, phase);
    return new Promise<Outcome>((resolve) => {
      const timeoutMs = this.hookTimeoutsMs[index];
      const timer = setTimeout(
        () => resolve(timed(new HookTimeoutError(node.name, phase, timeoutMs))),
        timeoutMs,
      );
      result.then(
        () => {
          clearTimeout(timer);
          resolve(timed(undefined));
        },
        (error: unknown) => {
          clearTimeout(timer);
          resolve(timed(error ?? new Error(`${phase} rejected with ${String(error)}`)));
        },
      );
    });
  }

  private hookOf(node: GraphNode, phase: Phase): (() => unknown) | undefined {
    if (node.kind === 'service') return undefined;
    const hook = (this.instances[node.index] as Record<string, unknown> | null | undefined)?.[phase];
    return typeof hook === 'function' ? (hook as () => unknown) : undefined;
  }

  private enter(index: number, phase: Phase): void {
    if (phase === 'start') this.statuses[index] = ResourceStatus.CONNECTING;
    else if (phase === 'stop') this.statuses[index] = ResourceStatus.STOPPING;
  }

  private leave(index: number, phase: Phase, error: unknown): Outcome {
    if (error !== undefined) {
      this.statuses[index] = ResourceStatus.FAILED;
      this.errors[index] = `${phase}: ${messageOf(error)}`;
      return { resource: this.graph.nodes[index].name, phase, error };
    }
    if (phase === 'preStart') this.preStarted[index] = true;
    else if (phase === 'start') {
      this.started[index] = true;
      this.statuses[index] = ResourceStatus.STARTED;
      this.errors[index] = undefined;
    } else if (phase === 'stop') {
      this.started[index] = false;
      this.statuses[index] = ResourceStatus.STOPPED;
    } else if (phase === 'postStop') this.preStarted[index] = false;
    return undefined;
  }
}
