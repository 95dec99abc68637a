import { holdRequestContext } from '../context';
import type { ServiceIdentifier, ResourceTypeRequired } from '../container/injection';
import { GraphError } from '../container/errors';
import { resourceOptionsOf } from '../container/decorators';
import type { ResourceGraph } from '../container/graph';
import { instantiate } from '../container/instantiate';
import { nameOfResourceToken } from '../container/tokens';
import { Meters } from '../metrics';
import type { SettingsProvider } from '../settings';
import { instanceIdentity } from '../identity/instance';
import { Tracing } from '../tracing/tracing';
import { TRACING_SETTINGS_PATH, type TracingSettings } from '../tracing/settings';
import { messageOf } from '../util';
import { Announcements } from './announcements';
import { LifecycleError } from './errors';
import type { Log } from './log';
import type { LogOutput } from '../logging/output';
import { LifecycleManager } from './manager';
import { attachRuntime, Microservice } from './microservice';
import { reservedValue } from './reserved';
import { createServiceHandle, type ServiceHandle } from './service-handle';
import {
  deployNameOf,
  hookTimeouts,
  LIFECYCLE_SETTINGS_PATH,
  resourceSettingsPath,
  type LifecycleSettings,
} from './settings';
import { StartSequence } from './start-sequence';
import { LifecycleState, type LifecycleParts, type StopOutcome } from './state';
import { ResourceStatus, type StatusReport } from './status';
import { StopSequence } from './stop-sequence';
import { TaskRunner } from './tasks';
import { systemClock, type Clock } from './clock';
import { EtcdFleetClaims } from './fleet';
import { etcdOptionsFromEnv } from '../settings/etcd-options';

export type { StopOutcome } from './state';

/**
 * One service: its graph's instances, constructed with the reserved tokens' values, and the start
 * and stop sequences that drive them. Made by `createMicroservice`.
 */
export class App {
  readonly name: string;
  /** Resolves when a stop begins, whoever asked for it. */
  readonly stopping: Promise<void>;
  /** Resolves once the service has fully stopped, whoever asked for the stop. */
  readonly stopped: Promise<StopOutcome>;
  /** The service's one prom-client registry: `@inject(METRICS)` gives each resource a labelled view of it. */
  readonly meters: Meters;
  /** Off unless `system.tracing.enabled`; then the start, the stop and every edge make spans. */
  readonly tracing: Tracing;
  private readonly state = new LifecycleState();
  private readonly log: Log;
  private readonly lifecycle: LifecycleSettings;
  private readonly announcements: Announcements;
  private readonly handle: ServiceHandle;
  private readonly instances: unknown[];
  private readonly manager: LifecycleManager;
  private readonly tasks: TaskRunner;
  private readonly starting: StartSequence;
  private readonly stopSequence: StopSequence;
  /** Resources whose FAILED status leaves readiness alone (`@resource({ readiness: false })`). */
  private readonly outsideReadiness: ReadonlySet<string>;
  private stopRun?: Promise<void>;
  private restartRun?: Promise<void>;
  /** Set once a resource asked for the request context: it is held on until the app's stop ends. */
  private requestContextHold?: () => void;

  constructor(
    readonly graph: ResourceGraph,
    readonly settings: SettingsProvider,
    private readonly output: LogOutput,
    clock: Clock = systemClock,
  ) {
    this.name = graph.serviceName;
    this.log = output.root;
    this.stopping = this.state.stopping;
    this.stopped = this.state.stopped;
    this.lifecycle = settings.view(LIFECYCLE_SETTINGS_PATH).value() as unknown as LifecycleSettings;
    // A bad value is a settings error, reported before any constructor runs.
    const timeouts = hookTimeouts(graph, settings, this.lifecycle.hook_timeout_ms);
    const tracingSettings = settings.view<TracingSettings>(TRACING_SETTINGS_PATH).value();
    this.tracing = new Tracing({
      serviceName: this.name,
      deployName: deployNameOf(settings) ?? '',
      identity: instanceIdentity(),
      settings: tracingSettings,
      log: this.log,
    });
    this.announcements = new Announcements(this.log);
    this.handle = createServiceHandle({
      name: this.name,
      graph,
      settings,
      tracing: this.tracing,
      announcements: this.announcements,
      // Unset while the constructors run: a constructor cannot see its peers.
      instances: () => this.instances,
      state: () => this.state.state,
      status: () => this.status(),
      isReady: () => this.state.state === 'running' && this.failing().length === 0,
      isRestarting: () => this.restartRun !== undefined,
      restartResource: (name) => this.restartResource(name),
      requestStop: (reason, exitCode) => this.requestStop(reason, exitCode),
      useRequestContext: () => {
        this.requestContextHold ??= holdRequestContext();
      },
    });
    if (this.tracing.enabled) {
      // The span active in a request follows its code in the request context, which must be on.
      this.handle.useRequestContext();
      output.correlate(() => this.tracing.logFields());
    }
    this.meters = new Meters({ serviceName: this.name, processMetrics: 'deferred' });
    output.instrument(this.meters);
    this.meters.addScrapeGauge(
      'settings_staleness_seconds',
      'Seconds since the etcd member serving the settings watch last answered (0 without etcd)',
      () => settings.health().etcd?.staleness_s ?? 0,
    );
    if (this.tracing.enabled) {
      this.meters.addScrapeGauge(
        'tracing_dropped_spans',
        'Spans dropped since start: the export queue (system.tracing.max_queue) was full, or their export failed',
        () => this.tracing.droppedSpans(),
      );
    }
    this.instances = this.construct(graph);
    const service = this.instances[graph.service.index] as Microservice;
    this.manager = new LifecycleManager(graph, this.instances, timeouts);
    this.followSettingsChanges();
    this.tasks = new TaskRunner(
      this.log,
      (taskName, error) => this.requestStop(`critical task ${taskName} failed: ${messageOf(error)}`, 2),
      this.tracing,
      {
        clock,
        meters: this.meters,
        fleet: () =>
          new EtcdFleetClaims(
            etcdOptionsFromEnv(this.handle.env)!,
            this.name,
            instanceIdentity().instance_id,
            this.lifecycle.cron_claim_ttl_s,
          ),
      },
    );
    this.outsideReadiness = new Set(
      graph.nodes
        .filter(
          (node) =>
            'useClass' in node.provision && resourceOptionsOf(node.provision.useClass)?.readiness === false,
        )
        .map((node) => node.name),
    );
    const parts: LifecycleParts = {
      name: this.name,
      service,
      manager: this.manager,
      tasks: this.tasks,
      tracing: this.tracing,
      log: this.log,
      lifecycle: this.lifecycle,
      state: this.state,
      announcements: this.announcements,
    };
    this.stopSequence = new StopSequence(parts, {
      settings,
      output,
      tracingSettings,
      releaseRequestContext: () => this.releaseRequestContext(),
      restartSettled: async () => {
        await this.restartRun?.catch(() => undefined);
      },
    });
    // Off the start's path: setting up prom-client's process metrics (their modules, the event-loop
    // monitor, the GC observer) took 9 ms of a fresh process's start. A scrape before then registers them.
    this.starting = new StartSequence(parts, this.stopSequence, () =>
      setImmediate(() => {
        if (this.state.state === 'running') this.meters.startProcessMetrics();
      }),
    );
    attachRuntime(service, {
      runPhase: (phase) =>
        phase === 'stop' || phase === 'postStop'
          ? this.stopSequence.runPhase(phase)
          : this.starting.runPhase(phase),
      launchTasks: () => this.tasks.launch(service),
      stopTasks: () => this.stopSequence.stopTasks(),
      requestStop: (reason, exitCode) => this.requestStop(reason, exitCode),
    });
  }

  get stopTimeoutMs(): number {
    return this.lifecycle.stop_timeout_ms;
  }

  /** Runs preStart, start (then launches tasks) and postStart; on failure, undoes what started and rejects. */
  start(): Promise<void> {
    if (this.state.state !== 'created') {
      return Promise.reject(
        new LifecycleError('INVALID_STATE', `${this.name} cannot start: it is ${this.state.state}`),
      );
    }
    return this.starting.run();
  }

  /** Stops tasks, then runs stop and postStop in reverse dependency order; every resource gets stopped. */
  stop(): Promise<void> {
    // Refused before the stop is remembered, so that stop() works once start() has settled.
    if (this.stopRun === undefined && this.state.state === 'starting') {
      return Promise.reject(
        new LifecycleError('INVALID_STATE', `${this.name} is still starting; stop it once start() settles`),
      );
    }
    // A failed start is already undoing itself; stopping again would run the stop hooks twice.
    const rollback = this.starting.rollback;
    this.stopRun ??= rollback !== undefined ? rollback.then(() => undefined) : this.stopSequence.run();
    return this.stopRun;
  }

  /** Asks for a stop from inside the service (a critical task, a restart policy); `stopped` tells the outcome. */
  requestStop(reason: string, exitCode: number): void {
    if (this.state.requested !== undefined || this.state.state === 'stopped') return;
    this.state.requested = { reason, exitCode };
    const level = exitCode === 0 ? 'info' : 'warn';
    this.log[level]({ reason, exitCode }, `stopping ${this.name}: ${reason}`);
    if (this.state.state === 'starting') this.starting.cancel(reason);
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
      state: this.state.state,
      resources: this.manager.report(),
      settings: this.settings.health(),
    };
  }

  /** Hooks and tasks still running: what a forced exit reports. */
  pendingHooks(): string[] {
    return [
      ...this.starting.pending(),
      ...this.manager.pending(),
      ...this.tasks.names().map((name) => `task ${name}`),
    ];
  }

  /** Stops `name` and what depends on it, then starts them again; see `ServiceHandle.restartResource`. */
  async restartResource(name: string): Promise<void> {
    const node = this.graph.byName.get(name);
    if (node === undefined || node.kind === 'service') {
      throw new LifecycleError('INVALID_STATE', `${this.name} has no resource '${name}' to restart`);
    }
    // One restart at a time, and a stop waits for the restart under way.
    const previous = this.restartRun?.catch(() => undefined);
    const run = (async () => {
      await previous;
      if (this.state.state !== 'running') {
        throw new LifecycleError(
          'INVALID_STATE',
          `cannot restart '${name}': ${this.name} is ${this.state.state}`,
        );
      }
      const subset = this.manager.withDependents(node.index);
      const names = [...subset].map((index) => this.graph.nodes[index].name);
      this.log.warn({ resource: name, restarting: names }, `restarting ${names.join(', ')}`);
      // Settings are live: the restarted resources read the current values when they start again.
      const failures = await this.manager.restart(subset, () => this.state.state === 'running');
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

  /** The graph's instances; what a constructor held on (the request context) is let go if one throws. */
  private construct(graph: ResourceGraph): unknown[] {
    const sources = {
      settings: this.settings,
      output: this.output,
      handle: this.handle,
      meters: this.meters,
    };
    try {
      const instances = instantiate(graph, (node, token) => reservedValue(sources, node, token));
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
}
