import { holdRequestContext } from '../context';
import type { ServiceIdentifier, ResourceTypeRequired } from '../container/injection';
import { GraphError } from '../container/errors';
import { resourceOptionsOf } from '../container/decorators';
import { buildGraph, type GraphNode, type Override, type ResourceGraph } from '../container/graph';
import { instantiate } from '../container/instantiate';
import type { ResourceClass } from '../container/provider';
import { DEFAULT_RESOURCES } from '../resources/defaults';
import {
  LOGGER,
  METRICS,
  METRICS_REGISTRY,
  nameOfResourceToken,
  RESOURCE_NAME,
  SERVICE,
  SETTINGS,
} from '../container/tokens';
import { Meters } from '../metrics';
import { Gauge } from '../metrics/prom-client';
import { SettingsProvider } from '../settings';
import type { SettingsScope } from '../settings/types';
import { HookTimeoutError, LifecycleError, messageOf, type HookFailure } from './errors';
import type { Logging } from '../logging';
import { LOG_LEVELS, type LevelName } from '../logging/levels';
import type { Log } from './log';
import { fixedOutput, loggingOutput, loggingScope, provisionalOutput, type LogOutput } from './log-output';
import { LifecycleManager } from './manager';
import { attachRuntime, Microservice, type ServiceRuntime } from './microservice';
import type { ServiceHandle } from './service-handle';
import {
  hookTimeouts,
  instrumentSettings,
  resourceScopeSchema,
  LIFECYCLE_SETTINGS_PATH,
  lifecycleSchema,
  type LifecycleSettings,
} from './settings';
import {
  ResourceStatus,
  START_PHASES,
  STOP_PHASES,
  type Phase,
  type StartPhase,
  type ServiceState,
  type StatusReport,
} from './status';
import { checkTaskDeclarations, TaskRunner } from './tasks';
import { instanceIdentity } from '../identity/instance';
import { Tracing } from '../tracing/tracing';
import { TRACING_SETTINGS_PATH, tracingSchema, type TracingSettings } from '../tracing/settings';

export interface CreateOptions {
  /** Settings given in code: the highest layer, above file, etcd and environment. */
  settings?: Record<string, unknown>;
  /** Records go here instead of the streams of `system.logging` (tests that check what was logged). */
  log?: Log;
  /** A Logging the caller made and will close (`run` makes one so that it can log until the exit). */
  logging?: Logging;
  /** Environment read for settings layers (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where `config/` is looked up (defaults to the working directory). */
  cwd?: string;
  /** Swapped providers; the public way in is `Test.createMicroservice(...).overrideResource(...)`. */
  overrides?: readonly Override[];
  /** Gives up the wait for etcd at once; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface StopOutcome {
  /** 0 clean stop, 1 a hook failed while stopping, 2 stopped by a critical task or a restart policy. */
  exitCode: number;
  reason: string;
}

/**
 * Builds the graph, loads and validates settings, and constructs every resource, in that order:
 * a missing provider, a cycle or a bad setting is reported before any constructor runs.
 */
export async function createMicroservice(
  Service: ResourceClass<Microservice>,
  options: CreateOptions = {},
): Promise<App> {
  const graph = buildGraph({ service: Service, overrides: options.overrides, defaults: DEFAULT_RESOURCES });
  checkTaskDeclarations(graph);
  const output = outputFor(graph.serviceName, options);
  const log = output.root;
  const settings = await SettingsProvider.load({
    serviceName: graph.serviceName,
    scopes: settingsScopes(graph),
    inline: options.settings,
    env: options.env,
    cwd: options.cwd,
    warn: (message) => log.warn({}, message),
    info: (message) => log.info({}, message),
    onRead: (tree) => output.followRead(tree),
    onUpdateRejected: (error) => log.error({ err: error }, error.message),
    signal: options.signal,
  });
  try {
    await output.configure(settings, deployNameOf(settings) ?? '');
    return new App(graph, settings, output);
  } catch (error) {
    await settings.close();
    await output.close();
    throw error;
  }
}

function outputFor(serviceName: string, options: CreateOptions): LogOutput {
  if (options.log !== undefined) return fixedOutput(options.log);
  if (options.logging !== undefined) return loggingOutput(options.logging, false);
  return provisionalOutput(serviceName, earlyLogLevel(options));
}

/**
 * `system.logging.level` from the settings given in code, else from the environment: both are known
 * before any layer is read, so the settings load's own records obey it too.
 */
function earlyLogLevel(options: CreateOptions): LevelName | undefined {
  const system = options.settings?.system as { logging?: { level?: unknown } } | undefined;
  const level = system?.logging?.level ?? (options.env ?? process.env).KEEL__SYSTEM__LOGGING__LEVEL;
  return typeof level === 'string' && (LOG_LEVELS as readonly string[]).includes(level)
    ? (level as LevelName)
    : undefined;
}

/** The scopes a service validates: Keel's own and one per resource; also what `keel settings push --service` checks. */
export function settingsScopes(graph: ResourceGraph): SettingsScope[] {
  const scopes: SettingsScope[] = [
    { path: LIFECYCLE_SETTINGS_PATH, owner: 'keel', schema: lifecycleSchema },
    loggingScope,
    { path: TRACING_SETTINGS_PATH, owner: 'keel', schema: tracingSchema },
  ];
  for (const node of graph.nodes) {
    if (node.kind !== 'resource') continue;
    // The rules go with the schema: a swapped-in value or factory brings neither.
    const rules =
      node.settings !== undefined && 'useClass' in node.provision
        ? resourceOptionsOf(node.provision.useClass)?.settingsRules
        : undefined;
    scopes.push({
      path: resourceSettingsPath(node.name),
      owner: node.name,
      schema: resourceScopeSchema(node.settings),
      rules,
    });
  }
  return scopes;
}

/** `system.deploy_name` when it is set to a non-empty string. */
function deployNameOf(settings: SettingsProvider): string | undefined {
  const deployName = settings.get('system.deploy_name');
  return typeof deployName === 'string' && deployName !== '' ? deployName : undefined;
}

export function resourceSettingsPath(name: string): string {
  return `system.resources.${name}`;
}

export class App {
  readonly name: string;
  /** Resolves when a stop begins, whoever asked for it. */
  readonly stopping: Promise<void>;
  /** Resolves once the service has fully stopped, whoever asked for the stop. */
  readonly stopped: Promise<StopOutcome>;
  private state: ServiceState = 'created';
  private readonly instances: unknown[];
  private readonly service: Microservice;
  private readonly handle: ServiceHandle;
  /** The service's one prom-client registry: `@inject(METRICS)` gives each resource a labelled view of it. */
  readonly meters: Meters;
  private readonly manager: LifecycleManager;
  private readonly tasks: TaskRunner;
  private readonly lifecycle: LifecycleSettings;
  /** Off unless `system.tracing.enabled`; then the start, the stop and every edge make spans. */
  readonly tracing: Tracing;
  private readonly tracingSettings: TracingSettings;
  private readonly phasesRun = new Set<Phase>();
  private readonly stopFailures: HookFailure[] = [];
  private readonly stoppingWork: (() => Promise<void> | void)[] = [];
  private readonly readyWork: (() => Promise<void> | void)[] = [];
  private readonly beforeStoppingWork: (() => Promise<void> | void)[] = [];
  private stopRun?: Promise<void>;
  private restartRun?: Promise<void>;
  private rollbackRun?: Promise<LifecycleError>;
  private requested?: StopOutcome;
  /** Set by a stop asked for while starting: the start ends at once and rolls back. */
  private cancelled?: string;
  private resolveCancelled!: () => void;
  private readonly cancelledSignal = new Promise<void>((resolve) => (this.resolveCancelled = resolve));
  /** The service's own start phase under way (its override may run code around `super`). */
  private servicePhase?: StartPhase;
  /** Resources whose FAILED status leaves readiness alone (`@resource({ readiness: false })`). */
  private readonly outsideReadiness: ReadonlySet<string>;
  private readonly serviceRuntime: ServiceRuntime;
  private resolveStopping!: () => void;
  /** Set once a resource asked for the request context: it is held on until the app's stop ends. */
  private requestContextHold?: () => void;
  private resolveStopped!: (outcome: StopOutcome) => void;

  /** Constructs every node of the graph; a constructor that throws surfaces as CONSTRUCTOR_FAILED. */
  private readonly log: Log;

  constructor(
    readonly graph: ResourceGraph,
    readonly settings: SettingsProvider,
    private readonly output: LogOutput,
  ) {
    this.name = graph.serviceName;
    this.log = output.root;
    this.lifecycle = settings.view(LIFECYCLE_SETTINGS_PATH).value() as unknown as LifecycleSettings;
    // A bad value is a settings error, reported before any constructor runs.
    const timeouts = hookTimeouts(graph, settings, this.lifecycle.hook_timeout_ms);
    this.tracingSettings = settings.view<TracingSettings>(TRACING_SETTINGS_PATH).value();
    this.tracing = new Tracing({
      serviceName: this.name,
      deployName: deployNameOf(settings) ?? '',
      identity: instanceIdentity(),
      settings: this.tracingSettings,
      log: this.log,
    });
    this.handle = this.serviceHandle();
    if (this.tracing.enabled) {
      // The span active in a request follows its code in the request context, which must be on.
      this.handle.useRequestContext();
      output.correlate(() => this.tracing.logFields());
    }
    this.meters = new Meters({ serviceName: this.name, processMetrics: 'deferred' });
    output.instrument(this.meters);
    instrumentTracing(this.meters, this.tracing);
    instrumentSettings(this.meters, settings);
    this.instances = this.construct(graph);
    this.service = this.instances[graph.service.index] as Microservice;
    this.manager = new LifecycleManager(graph, this.instances, timeouts);
    this.followSettingsChanges();
    this.tasks = new TaskRunner(
      this.log,
      (taskName, error) => this.requestStop(`critical task ${taskName} failed: ${messageOf(error)}`, 2),
      this.tracing,
    );
    this.stopping = new Promise((resolve) => (this.resolveStopping = resolve));
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.outsideReadiness = new Set(
      graph.nodes
        .filter(
          (node) =>
            'useClass' in node.provision && resourceOptionsOf(node.provision.useClass)?.readiness === false,
        )
        .map((node) => node.name),
    );
    this.serviceRuntime = this.runtime();
    attachRuntime(this.service, this.serviceRuntime);
  }

  /** The graph's instances; what a constructor held on (the request context) is let go if one throws. */
  private construct(graph: ResourceGraph): unknown[] {
    try {
      const instances = instantiate(graph, (node, token) => this.reservedValue(node, token));
      const service = instances[graph.service.index];
      if (!(service instanceof Microservice)) {
        const className = (service as object).constructor.name;
        throw new GraphError('NOT_A_RESOURCE', `${className} must extend Microservice`, [graph.serviceName]);
      }
      return instances;
    } catch (error) {
      this.releaseRequestContext();
      throw error;
    }
  }

  private releaseRequestContext(): void {
    this.requestContextHold?.();
    this.requestContextHold = undefined;
  }

  get stopTimeoutMs(): number {
    return this.lifecycle.stop_timeout_ms;
  }

  /** Runs preStart, start (then launches tasks) and postStart; on failure, undoes what started and rejects. */
  async start(): Promise<void> {
    if (this.state !== 'created') {
      throw new LifecycleError('INVALID_STATE', `${this.name} cannot start: it is ${this.state}`);
    }
    this.state = 'starting';
    this.tracing.register();
    const origin = this.manager.markOrigin();
    const began = performance.now();
    try {
      for (const phase of START_PHASES) {
        const phaseBegan = performance.now();
        this.servicePhase = phase;
        const running = this.service[phase]();
        const settled = () => {
          if (this.servicePhase === phase) this.servicePhase = undefined;
        };
        void running.then(settled, settled);
        // A cancel does not wait for the service's own code: what had started is rolled back now.
        await Promise.race([running, this.cancelledSignal]);
        this.throwIfCancelled();
        if (!this.phasesRun.has(phase)) {
          throw new LifecycleError(
            'SUPER_NOT_CALLED',
            `${this.service.constructor.name}.${phase}() did not call super.${phase}(): the resources' ${phase} never ran`,
          );
        }
        this.log.info(
          { phase, ms: round(performance.now() - phaseBegan) },
          `${phase} done in ${round(performance.now() - phaseBegan)} ms`,
        );
      }
    } catch (error) {
      this.traceLifecycle('start', origin, began, START_PHASES, error);
      this.rollbackRun = this.rollBack(error);
      throw await this.rollbackRun;
    }
    const traceId = this.traceLifecycle('start', origin, began, START_PHASES);
    this.state = 'running';
    // Off the start's path: setting up prom-client's process metrics (their modules, the event-loop
    // monitor, the GC observer) took 9 ms of a fresh process's start. A scrape before then registers them.
    setImmediate(() => {
      if (this.state === 'running') this.meters.startProcessMetrics();
    });
    if (this.requested === undefined) await this.runAnnouncements(this.readyWork, 'ready');
    this.log.info(
      { ms: round(performance.now() - began), ...(traceId !== undefined && { trace_id: traceId }) },
      `${this.name} ready in ${round(performance.now() - began)} ms`,
    );
  }

  /** Stops tasks, then runs stop and postStop in reverse dependency order; every resource gets stopped. */
  stop(): Promise<void> {
    // Refused before the stop is remembered, so that stop() works once start() has settled.
    if (this.stopRun === undefined && this.state === 'starting') {
      return Promise.reject(
        new LifecycleError('INVALID_STATE', `${this.name} is still starting; stop it once start() settles`),
      );
    }
    this.stopRun ??= this.runStop();
    return this.stopRun;
  }

  /** Asks for a stop from inside the service (a critical task, a restart policy); `stopped` tells the outcome. */
  requestStop(reason: string, exitCode: number): void {
    if (this.requested !== undefined || this.state === 'stopped') return;
    this.requested = { reason, exitCode };
    const level = exitCode === 0 ? 'info' : 'warn';
    this.log[level]({ reason, exitCode }, `stopping ${this.name}: ${reason}`);
    if (this.state === 'starting') this.cancelStart(reason);
    else this.stop().catch((error: unknown) => this.log.error({ err: error }, messageOf(error)));
  }

  /**
   * The instance of a class (its type), of a typed token (`resourceToken<T>(name)`), or of a name
   * with its type given (`get<Greeter>('greeter')`); the type is never taken from where the
   * result goes.
   */
  get<T = ResourceTypeRequired>(token: ServiceIdentifier<T>): NoInfer<T> {
    const name = typeof token === 'string' ? token : nameOfResourceToken(token);
    const node = name !== undefined ? this.graph.byName.get(name) : this.graph.byToken.get(token);
    if (node === undefined) {
      const names = this.graph.nodes.map((candidate) => candidate.name).join(', ');
      throw new GraphError(
        'MISSING_PROVIDER',
        `${this.name} has nothing registered as ${String(token)} (it has: ${names})`,
      );
    }
    return this.instances[node.index] as T;
  }

  status(): StatusReport {
    return {
      service: this.name,
      state: this.state,
      resources: this.manager.report(),
      settings: this.settings.health(),
    };
  }

  /** Hooks and tasks still running: what a forced exit reports. */
  pendingHooks(): string[] {
    return [
      ...(this.servicePhase === undefined ? [] : [`${this.name} (${this.servicePhase})`]),
      ...this.manager.pending(),
      ...this.tasks.names().map((name) => `task ${name}`),
    ];
  }

  /** No later phase runs and no hook is awaited any more: start() rolls back what had started. */
  private cancelStart(reason: string): void {
    if (this.cancelled !== undefined) return;
    this.cancelled = reason;
    this.manager.cancel();
    this.resolveCancelled();
  }

  private throwIfCancelled(): void {
    if (this.cancelled !== undefined)
      throw new LifecycleError('START_CANCELLED', `${this.name} start cancelled: ${this.cancelled}`);
  }

  /** Resources that hold readiness down: FAILED ones that count for it, and any that says `ready: false`. */
  private failing(): string[] {
    return this.manager
      .report()
      .filter(
        (row) =>
          row.ready === false ||
          (row.status === ResourceStatus.FAILED && !this.outsideReadiness.has(row.name)),
      )
      .map((row) => row.name);
  }

  /** Stops `name` and what depends on it, then starts them again; see `ServiceHandle.restartResource`. */
  async restartResource(name: string): Promise<void> {
    const node = this.graph.byName.get(name);
    if (node === undefined || node.kind === 'service') {
      throw new LifecycleError('INVALID_STATE', `${this.name} has no resource '${name}' to restart`);
    }
    // One restart at a time, and a stop waits for the restart under way (see runStop).
    const previous = this.restartRun?.catch(() => undefined);
    const run = (async () => {
      await previous;
      if (this.state !== 'running') {
        throw new LifecycleError('INVALID_STATE', `cannot restart '${name}': ${this.name} is ${this.state}`);
      }
      const subset = this.manager.withDependents(node.index);
      const names = [...subset].map((index) => this.graph.nodes[index].name);
      this.log.warn({ resource: name, restarting: names }, `restarting ${names.join(', ')}`);
      // Settings are live: the restarted resources read the current values when they start again.
      const failures = await this.manager.restart(subset, () => this.state === 'running');
      if (failures.length > 0) {
        throw LifecycleError.fromFailures('RESTART_FAILED', `restarting '${name}' failed:`, failures);
      }
    })();
    this.restartRun = run;
    try {
      await run;
    } finally {
      if (this.restartRun === run) this.restartRun = undefined;
    }
  }

  private reservedValue(node: GraphNode, token: symbol): unknown {
    switch (token) {
      case SETTINGS:
        return this.settings.view(node.kind === 'service' ? 'system' : resourceSettingsPath(node.name));
      case LOGGER:
        return this.output.forResource(node.name);
      case RESOURCE_NAME:
        return node.name;
      case SERVICE:
        return this.handle;
      case METRICS:
        return this.meters.forResource(node.name);
      case METRICS_REGISTRY:
        return this.meters;
      default:
        throw new GraphError('MISSING_PROVIDER', `unknown reserved token ${token.toString()}`, node.chain);
    }
  }

  /** A resource with `onSettingsChange(next, previous)` hears every accepted change of its scope. */
  private followSettingsChanges(): void {
    for (const node of this.graph.nodes) {
      const instance = this.instances[node.index] as { onSettingsChange?: unknown } | null | undefined;
      const onChange = instance?.onSettingsChange;
      if (node.kind !== 'resource' || typeof onChange !== 'function') continue;
      this.settings.view(resourceSettingsPath(node.name)).watch('', (next, previous) => {
        Promise.resolve()
          .then(() => onChange.call(instance, next, previous))
          .catch((error: unknown) =>
            this.log.error(
              { resource: node.name, err: error },
              `${node.name}.onSettingsChange failed: ${messageOf(error)}`,
            ),
          );
      });
    }
  }

  private serviceHandle(): ServiceHandle {
    return {
      name: this.name,
      graph: this.graph,
      env: this.settings.env,
      tracing: this.tracing,
      deployName: () => deployNameOf(this.settings) ?? this.name,
      state: () => this.state,
      status: () => this.status(),
      isReady: () => this.state === 'running' && this.failing().length === 0,
      isRestarting: () => this.restartRun !== undefined,
      restartResource: (name) => this.restartResource(name),
      requestStop: (reason, exitCode) => this.requestStop(reason, exitCode),
      // `instances` is unset while the constructors run: a constructor cannot see its peers.
      instance: (name) => {
        const node = this.graph.byName.get(name);
        return node === undefined ? undefined : this.instances?.[node.index];
      },
      onStopping: (work) => {
        this.stoppingWork.push(work);
      },
      onReady: (work) => {
        this.readyWork.push(work);
      },
      beforeStopping: (work) => {
        this.beforeStoppingWork.push(work);
      },
      useRequestContext: () => {
        this.requestContextHold ??= holdRequestContext();
      },
    };
  }

  private runtime(): ServiceRuntime {
    return {
      runPhase: async (phase) => {
        const isStop = phase === 'stop' || phase === 'postStop';
        if (!isStop) this.throwIfCancelled();
        this.refuseOutOfPhase(phase);
        const failures = isStop
          ? await this.manager.runStopPhase(phase)
          : await this.manager.runStartPhase(phase);
        this.phasesRun.add(phase);
        if (isStop) this.stopFailures.push(...failures);
        else if (failures.length > 0) throw startFailure(this.name, failures);
        else this.throwIfCancelled();
      },
      launchTasks: () => this.tasks.launch(this.service),
      stopTasks: async () => {
        await Promise.all([this.stopTasks(), this.runStoppingWork()]);
      },
      requestStop: (reason, exitCode) => this.requestStop(reason, exitCode),
    };
  }

  /**
   * Aborts the tasks and waits for them at most their share of the stop timeout, so that the
   * resources' stop hooks still run when a task ignores its AbortSignal; such a task is a stop failure.
   */
  private async stopTasks(): Promise<void> {
    const budgetMs = Math.round(this.lifecycle.stop_timeout_ms * this.lifecycle.task_stop_share);
    const stuck = await this.tasks.stop(budgetMs);
    if (stuck.length === 0) return;
    const message =
      `task(s) ${stuck.join(', ')} still running ${budgetMs} ms after their AbortSignal fired ` +
      `(system.lifecycle.task_stop_share of stop_timeout_ms): stopping the resources anyway`;
    this.log.error({ tasks: stuck, budgetMs }, message);
    this.stopFailures.push({ resource: this.name, phase: 'stop', error: new Error(message) });
  }

  /** onReady and beforeStopping work: what fails is logged, the service goes on. */
  private async runAnnouncements(work: readonly (() => Promise<void> | void)[], when: string): Promise<void> {
    const outcomes = await Promise.allSettled(work.map((item) => Promise.resolve().then(item)));
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected')
        this.log.error({ err: outcome.reason }, `${when} work failed: ${messageOf(outcome.reason)}`);
    }
  }

  private async runStoppingWork(): Promise<void> {
    const outcomes = await Promise.allSettled(this.stoppingWork.map((work) => Promise.resolve().then(work)));
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected')
        this.stopFailures.push({ resource: this.name, phase: 'stop', error: outcome.reason });
    }
  }

  /**
   * Last of all: the spans still queued are sent, within `export_timeout_ms` and what is left of the
   * stop timeout; no more settings changes, and every record logged so far reaches its streams.
   */
  private async release(stopBegan = performance.now()): Promise<void> {
    if (this.tracing.enabled) {
      const left = this.lifecycle.stop_timeout_ms - (performance.now() - stopBegan);
      const budget = Math.max(0, Math.min(this.tracingSettings.export_timeout_ms, left * 0.8));
      if ((await this.tracing.shutdown(budget)) === 'timeout')
        this.log.warn(
          { budgetMs: Math.round(budget) },
          `tracing: the last spans were not all exported within ${Math.round(budget)} ms`,
        );
    }
    this.releaseRequestContext();
    await this.settings.close();
    await this.output.close();
  }

  private traceLifecycle(
    kind: 'start' | 'stop',
    originMs: number,
    beganMs: number,
    phases: readonly Phase[],
    error?: unknown,
  ): string | undefined {
    if (!this.tracing.enabled) return undefined;
    return this.tracing.recordLifecycle(
      {
        kind,
        originMs,
        beganMs,
        endedMs: performance.now(),
        phases,
        resources: this.manager.report(),
        error,
      },
      this.name,
    );
  }

  private async rollBack(error: unknown): Promise<LifecycleError> {
    this.state = 'stopping';
    this.resolveStopping();
    const cause =
      error instanceof LifecycleError
        ? error
        : startFailure(this.name, [{ resource: this.name, phase: 'start', error }]);
    if (cause.code === 'START_CANCELLED') this.log.warn({}, `${cause.message}: rolling back what started`);
    const began = performance.now();
    await this.stopTasks();
    await this.awaitAbandonedHooks(began);
    const rollback = [...this.stopFailures, ...(await this.undoStart())];
    // A start hook a cancel left running may still succeed: what it started is stopped too.
    await this.manager.settleAbandoned();
    rollback.push(...(await this.undoStart()));
    await this.release();
    const cancelled = cause.code === 'START_CANCELLED' && this.requested !== undefined;
    this.state = cancelled ? 'stopped' : 'failed';
    const outcome = cancelled ? this.requested! : { exitCode: 1, reason: cause.message };
    this.resolveStopped(
      rollback.length === 0 ? outcome : { ...outcome, exitCode: Math.max(outcome.exitCode, 1) },
    );
    if (rollback.length === 0) return cause;
    return LifecycleError.fromFailures(cause.code, `${cause.message}\nand rolling back failed too:`, [
      ...cause.failures,
      ...rollback,
    ]);
  }

  /**
   * Each phase runs once, from its own override: `super.start()` called again from `postStart`
   * ran every start hook twice and launched a second set of tasks, the first never aborted.
   */
  private refuseOutOfPhase(phase: Phase): void {
    const isStop = phase === 'stop' || phase === 'postStop';
    const twice = this.phasesRun.has(phase);
    if (!twice && (isStop || phase === this.servicePhase)) return;
    const caller = isStop ? phase : (this.servicePhase ?? phase);
    throw new LifecycleError(
      'SUPER_OUT_OF_PHASE',
      `${this.service.constructor.name}.${caller}() called super.${phase}()` +
        (twice && caller === phase ? ' a second time' : '') +
        `: each phase runs once, from its own override`,
    );
  }

  /**
   * A start hook a cancel left running still uses what it depends on: stopping that first broke
   * the reverse order (a database stopped under a start still querying it). It gets, with the
   * tasks, their share of the stop timeout; then what it depends on is stopped anyway.
   */
  private async awaitAbandonedHooks(since: number): Promise<void> {
    const budgetMs = Math.round(this.lifecycle.stop_timeout_ms * this.lifecycle.task_stop_share);
    const running = this.manager.pending();
    if (await this.manager.settleAbandoned(Math.max(0, since + budgetMs - performance.now()))) return;
    this.log.warn(
      { hooks: running, budgetMs },
      `start hook(s) ${running.join(', ')} still running ${budgetMs} ms after the cancel ` +
        `(system.lifecycle.task_stop_share of stop_timeout_ms): stopping what they depend on anyway`,
    );
  }

  /** An override of stop or postStop that forgot `super`: an error, and the resources stop all the same. */
  private async stopForgottenPhase(phase: 'stop' | 'postStop'): Promise<void> {
    this.stopFailures.push({
      resource: this.name,
      phase,
      error: new LifecycleError(
        'SUPER_NOT_CALLED',
        `${this.service.constructor.name}.${phase}() did not call super.${phase}(): Keel ran the resources' ${phase} itself`,
      ),
    });
    if (phase === 'stop') await this.serviceRuntime.stopTasks();
    await this.serviceRuntime.runPhase(phase);
  }

  private async undoStart(): Promise<HookFailure[]> {
    return [...(await this.manager.runStopPhase('stop')), ...(await this.manager.runStopPhase('postStop'))];
  }

  private async runStop(): Promise<void> {
    if (this.rollbackRun !== undefined) {
      // A failed start is already undoing itself; stopping again would run the stop hooks twice.
      await this.rollbackRun;
      return;
    }
    // stop() runs this once, and a failed start has its rollback: here the app either never started or runs.
    if (this.state === 'created') {
      this.state = 'stopped';
      this.resolveStopping();
      await this.release();
      this.resolveStopped(this.requested ?? { exitCode: 0, reason: 'stopped before it started' });
      return;
    }
    const began = performance.now();
    // `stopping` resolves first: the stop timeout of `run` covers the before-stopping work too.
    this.resolveStopping();
    await this.runAnnouncements(this.beforeStoppingWork, 'before-stopping');
    this.state = 'stopping';
    await this.restartRun?.catch(() => undefined);
    for (const phase of STOP_PHASES) {
      try {
        await this.service[phase]();
      } catch (error) {
        this.stopFailures.push({ resource: this.name, phase, error });
      }
      if (!this.phasesRun.has(phase)) await this.stopForgottenPhase(phase);
    }
    const failures = this.stopFailures;
    const traceId = this.traceLifecycle(
      'stop',
      this.manager.originMs,
      began,
      STOP_PHASES,
      failures.length > 0 ? failures[0].error : undefined,
    );
    if (failures.length === 0) {
      const ms = round(performance.now() - began);
      this.log.info(
        { ms, ...(traceId !== undefined && { trace_id: traceId }) },
        `${this.name} stopped in ${ms} ms`,
      );
    }
    await this.release(began);
    this.state = 'stopped';
    const requested = this.requested ?? { exitCode: 0, reason: 'stopped' };
    this.resolveStopped(
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
        `${this.name} stopped with ${failures.length} failure(s):`,
        failures,
      );
    }
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

/** `<prefix>tracing_dropped_spans`, while tracing is on: spans the export queue or a failed export lost. */
function instrumentTracing(meters: Meters, tracing: Tracing): void {
  if (!tracing.enabled) return;
  const name = `${meters.prefix}tracing_dropped_spans`;
  meters.addCollector(name, (registry) => {
    new Gauge({
      name,
      help: 'Spans dropped since start: the export queue (system.tracing.max_queue) was full, or their export failed',
      registers: [registry],
      collect() {
        this.set(tracing.droppedSpans());
      },
    });
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
