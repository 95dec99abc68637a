import type { SettingsProvider } from '../settings';
import type { TracingSettings } from '../tracing/settings';
import { LifecycleError, type HookFailure } from './errors';
import type { LogOutput } from '../logging/output';
import { roundMs, traceLifecycle, type LifecycleParts } from './state';
import { STOP_PHASES, type StopPhase } from './status';

/** What a stop lets go of last, beside the parts it stops. */
export interface StopReleases {
  settings: SettingsProvider;
  output: LogOutput;
  tracingSettings: TracingSettings;
  /** Lets go of the request context, once no resource serves a request any more. */
  releaseRequestContext(): void;
  /** Resolves once the resource restart under way, if any, has settled. */
  restartSettled(): Promise<void>;
}

/**
 * Stopping: the before-stopping work, then the service's stop and postStop overrides, each of which
 * runs its phase over every resource in reverse dependency order through `super`; tasks are
 * aborted (with the onStopping work) first. Also what a failed start's rollback runs.
 */
export class StopSequence {
  constructor(
    private readonly parts: LifecycleParts,
    private readonly releases: StopReleases,
  ) {}

  /** A stop phase for every resource, as the service's `super.stop()`/`super.postStop()` asks. */
  async runPhase(phase: StopPhase): Promise<void> {
    const { state, manager, service } = this.parts;
    if (state.phasesRun.has(phase)) {
      throw new LifecycleError(
        'SUPER_OUT_OF_PHASE',
        `${service.constructor.name}.${phase}() called super.${phase}() a second time: each phase runs once, from its own override`,
      );
    }
    const failures = await manager.runStopPhase(phase);
    state.phasesRun.add(phase);
    state.stopFailures.push(...failures);
  }

  /** Tasks aborted and awaited, beside the onStopping work (the HTTP drain), before any stop hook. */
  async stopTasks(): Promise<void> {
    const [, stoppingFailures] = await Promise.all([
      this.abortTasks(),
      this.parts.announcements.runStopping(),
    ]);
    for (const error of stoppingFailures)
      this.parts.state.stopFailures.push({ resource: this.parts.name, phase: 'stop', error });
  }

  /**
   * Aborts the tasks and waits for them at most their share of the stop timeout, so that the
   * resources' stop hooks still run when a task ignores its AbortSignal; such a task is a stop failure.
   */
  async abortTasks(): Promise<void> {
    const { lifecycle, tasks, log, name, state } = this.parts;
    const budgetMs = Math.round(lifecycle.stop_timeout_ms * lifecycle.task_stop_share);
    const stuck = await tasks.stop(budgetMs);
    if (stuck.length === 0) return;
    const message =
      `task(s) ${stuck.join(', ')} still running ${budgetMs} ms after their AbortSignal fired ` +
      `(system.lifecycle.task_stop_share of stop_timeout_ms): stopping the resources anyway`;
    log.error({ tasks: stuck, budgetMs }, message);
    state.stopFailures.push({ resource: name, phase: 'stop', error: new Error(message) });
  }

  /** Stop and postStop over whatever started, without the service's overrides: a rollback's. */
  async undoStart(): Promise<HookFailure[]> {
    const { manager } = this.parts;
    return [...(await manager.runStopPhase('stop')), ...(await manager.runStopPhase('postStop'))];
  }

  /** The whole stop of a service that started, or that was never started. */
  async run(): Promise<void> {
    const { state, name, log, manager, service, announcements } = this.parts;
    if (state.state === 'created') {
      state.state = 'stopped';
      state.beginStopping();
      await this.release();
      state.endStopped(state.requested ?? { exitCode: 0, reason: 'stopped before it started' });
      return;
    }
    const began = performance.now();
    // `stopping` resolves first: the stop timeout of `run` covers the before-stopping work too.
    state.beginStopping();
    await announcements.runBeforeStopping();
    state.state = 'stopping';
    await this.releases.restartSettled();
    for (const phase of STOP_PHASES) {
      try {
        await service[phase]();
      } catch (error) {
        state.stopFailures.push({ resource: name, phase, error });
      }
      if (!state.phasesRun.has(phase)) await this.runForgottenPhase(phase);
    }
    const failures = state.stopFailures;
    const traceId = traceLifecycle(
      this.parts,
      'stop',
      manager.originMs,
      began,
      STOP_PHASES,
      failures.length > 0 ? failures[0].error : undefined,
    );
    if (failures.length === 0) {
      const ms = roundMs(performance.now() - began);
      log.info({ ms, ...(traceId !== undefined && { trace_id: traceId }) }, `${name} stopped in ${ms} ms`);
    }
    await this.release(began);
    state.state = 'stopped';
    const requested = state.requested ?? { exitCode: 0, reason: 'stopped' };
    state.endStopped(
      failures.length > 0
        ? { exitCode: Math.max(requested.exitCode, 1), reason: requested.reason }
        : requested,
    );
    if (failures.length > 0) {
      const forgotten = failures.some(
        (failure) => failure.error instanceof LifecycleError && failure.error.code === 'SUPER_NOT_CALLED',
      );
      throw LifecycleError.fromFailures(
        forgotten ? 'SUPER_NOT_CALLED' : 'STOP_FAILED',
        `${name} stopped with ${failures.length} failure(s):`,
        failures,
      );
    }
  }

  /**
   * Last of all: the spans still queued are sent, within `export_timeout_ms` and what is left of the
   * stop timeout; no more settings changes, and every record logged so far reaches its streams.
   */
  async release(stopBegan = performance.now()): Promise<void> {
    const { tracing, lifecycle, log } = this.parts;
    if (tracing.enabled) {
      const left = lifecycle.stop_timeout_ms - (performance.now() - stopBegan);
      const budget = Math.max(0, Math.min(this.releases.tracingSettings.export_timeout_ms, left * 0.8));
      if ((await tracing.shutdown(budget)) === 'timeout')
        log.warn(
          { budgetMs: Math.round(budget) },
          `tracing: the last spans were not all exported within ${Math.round(budget)} ms`,
        );
    }
    this.releases.releaseRequestContext();
    await this.releases.settings.close();
    await this.releases.output.close();
  }

  /** An override of stop or postStop that forgot `super`: an error, and the resources stop all the same. */
  private async runForgottenPhase(phase: StopPhase): Promise<void> {
    const { state, name, service } = this.parts;
    state.stopFailures.push({
      resource: name,
      phase,
      error: new LifecycleError(
        'SUPER_NOT_CALLED',
        `${service.constructor.name}.${phase}() did not call super.${phase}(): Keel ran the resources' ${phase} itself`,
      ),
    });
    if (phase === 'stop') await this.stopTasks();
    await this.runPhase(phase);
  }
}
