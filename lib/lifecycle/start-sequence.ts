import { messageOf } from '../util';
import { HookTimeoutError, LifecycleError, type HookFailure } from './errors';
import { roundMs, traceLifecycle, type LifecycleParts } from './state';
import type { StopSequence } from './stop-sequence';
import { START_PHASES, type StartPhase } from './status';

/**
 * Starting: the service's preStart, start and postStart overrides, each of which runs its phase over
 * every resource through `super`. A stop asked for meanwhile cancels it; a failure or a cancel
 * rolls back, in reverse order, what had started.
 */
export class StartSequence {
  /** Set while a failed or cancelled start undoes itself; resolves with the error `start()` rejects with. */
  rollback?: Promise<LifecycleError>;
  /** Set by a stop asked for while starting: the start ends at once and rolls back. */
  private cancelled?: string;
  private resolveCancelled!: () => void;
  private readonly cancelledSignal = new Promise<void>((resolve) => (this.resolveCancelled = resolve));
  /** The service's own start phase under way (its override may run code around `super`). */
  private servicePhase?: StartPhase;

  constructor(
    private readonly parts: LifecycleParts,
    private readonly stop: StopSequence,
    /** What runs once the service is running, off the start's path. */
    private readonly onRunning: () => void,
  ) {}

  /** Runs preStart, start (then launches tasks) and postStart; on failure, undoes what started and rejects. */
  async run(): Promise<void> {
    const { state, tracing, manager, service, log, name, announcements } = this.parts;
    state.state = 'starting';
    tracing.register();
    const origin = manager.markOrigin();
    const began = performance.now();
    try {
      for (const phase of START_PHASES) {
        const phaseBegan = performance.now();
        this.servicePhase = phase;
        const running = service[phase]();
        const settled = () => {
          if (this.servicePhase === phase) this.servicePhase = undefined;
        };
        void running.then(settled, settled);
        // A cancel does not wait for the service's own code: what had started is rolled back now.
        await Promise.race([running, this.cancelledSignal]);
        this.throwIfCancelled();
        if (!state.phasesRun.has(phase)) {
          throw new LifecycleError(
            'SUPER_NOT_CALLED',
            `${service.constructor.name}.${phase}() did not call super.${phase}(): the resources' ${phase} never ran`,
          );
        }
        const ms = roundMs(performance.now() - phaseBegan);
        log.info({ phase, ms }, `${phase} done in ${ms} ms`);
      }
    } catch (error) {
      traceLifecycle(this.parts, 'start', origin, began, START_PHASES, error);
      this.rollback = this.rollBack(error);
      throw await this.rollback;
    }
    const traceId = traceLifecycle(this.parts, 'start', origin, began, START_PHASES);
    state.state = 'running';
    this.onRunning();
    if (state.requested === undefined) await announcements.runReady();
    const ms = roundMs(performance.now() - began);
    log.info({ ms, ...(traceId !== undefined && { trace_id: traceId }) }, `${name} ready in ${ms} ms`);
  }

  /** A start phase for every resource, as the service's `super.<phase>()` asks. */
  async runPhase(phase: StartPhase): Promise<void> {
    const { state, manager, name } = this.parts;
    this.throwIfCancelled();
    this.refuseOutOfPhase(phase);
    const failures = await manager.runStartPhase(phase);
    state.phasesRun.add(phase);
    if (failures.length > 0) throw startFailure(name, failures);
    this.throwIfCancelled();
  }

  /** No later phase runs and no hook is awaited any more: the start rolls back what had started. */
  cancel(reason: string): void {
    if (this.cancelled !== undefined) return;
    this.cancelled = reason;
    this.parts.manager.cancel();
    this.resolveCancelled();
  }

  /** The service's own override still running, as a forced exit names it. */
  pending(): string[] {
    return this.servicePhase === undefined ? [] : [`${this.parts.name} (${this.servicePhase})`];
  }

  private throwIfCancelled(): void {
    if (this.cancelled !== undefined)
      throw new LifecycleError('START_CANCELLED', `${this.parts.name} start cancelled: ${this.cancelled}`);
  }

  /**
   * Each phase runs once, from its own override: `super.start()` called again from `postStart`
   * ran every start hook twice and launched a second set of tasks, the first never aborted.
   */
  private refuseOutOfPhase(phase: StartPhase): void {
    const twice = this.parts.state.phasesRun.has(phase);
    if (!twice && phase === this.servicePhase) return;
    const caller = this.servicePhase ?? phase;
    throw new LifecycleError(
      'SUPER_OUT_OF_PHASE',
      `${this.parts.service.constructor.name}.${caller}() called super.${phase}()` +
        (twice && caller === phase ? ' a second time' : '') +
        `: each phase runs once, from its own override`,
    );
  }

  private async rollBack(error: unknown): Promise<LifecycleError> {
    const { state, name, log, manager } = this.parts;
    state.state = 'stopping';
    state.beginStopping();
    const cause =
      error instanceof LifecycleError
        ? error
        : startFailure(name, [{ resource: name, phase: 'start', error }]);
    if (cause.code === 'START_CANCELLED') log.warn({}, `${cause.message}: rolling back what started`);
    const began = performance.now();
    await this.stop.abortTasks();
    await this.awaitAbandonedHooks(began);
    const rollback = [...state.stopFailures, ...(await this.stop.undoStart())];
    // A start hook a cancel left running may still succeed: what it started is stopped too.
    await manager.settleAbandoned();
    rollback.push(...(await this.stop.undoStart()));
    await this.stop.release();
    const cancelled = cause.code === 'START_CANCELLED' && state.requested !== undefined;
    state.state = cancelled ? 'stopped' : 'failed';
    const outcome = cancelled ? state.requested! : { exitCode: 1, reason: cause.message };
    state.endStopped(
      rollback.length === 0 ? outcome : { ...outcome, exitCode: Math.max(outcome.exitCode, 1) },
    );
    if (rollback.length === 0) return cause;
    return LifecycleError.fromFailures(cause.code, `${cause.message}\nand rolling back failed too:`, [
      ...cause.failures,
      ...rollback,
    ]);
  }

  /**
   * A start hook a cancel left running still uses what it depends on: stopping that first broke
   * the reverse order (a database stopped under a start still querying it). It gets, with the
   * tasks, their share of the stop timeout; then what it depends on is stopped anyway.
   */
  private async awaitAbandonedHooks(since: number): Promise<void> {
    const { lifecycle, manager, log } = this.parts;
    const budgetMs = Math.round(lifecycle.stop_timeout_ms * lifecycle.task_stop_share);
    const running = manager.pending();
    if (await manager.settleAbandoned(Math.max(0, since + budgetMs - performance.now()))) return;
    log.warn(
      { hooks: running, budgetMs },
      `start hook(s) ${running.join(', ')} still running ${budgetMs} ms after the cancel ` +
        `(system.lifecycle.task_stop_share of stop_timeout_ms): stopping what they depend on anyway`,
    );
  }
}

function startFailure(service: string, failures: readonly HookFailure[]): LifecycleError {
  const first = failures[0];
  const code = first.error instanceof HookTimeoutError ? 'HOOK_TIMEOUT' : 'HOOK_FAILED';
  return LifecycleError.fromFailures(
    code,
    `${service} failed to start: resource '${first.resource}' failed in ${first.phase}: ${messageOf(first.error)}`,
    failures,
  );
}
