import type { ResourceGraph } from '../container/graph';
import type { SettingsProvider } from '../settings';
import type { Tracing } from '../tracing/tracing';
import type { Announcements } from './announcements';
import { deployNameOf } from './settings';
import type { ServiceState, StatusReport } from './status';

/**
 * What a resource may know of the service it belongs to (`@inject(SERVICE)`): its status, its graph,
 * and the two actions restart policies need. The report server and the status resource use
 * nothing else.
 */
export interface ServiceHandle {
  readonly name: string;
  readonly graph: ResourceGraph;
  /**
   * The environment the service was created with (`CreateOptions.env`, else `process.env`): what
   * its settings layers were read from, and where Keel's resources read `KEEL_ETCD_*`.
   */
  readonly env: NodeJS.ProcessEnv;
  /** The service's tracing (`system.tracing`): what Keel's edges make their spans with. */
  readonly tracing: Tracing;
  /** `system.deploy_name`, or the service name when unset. */
  deployName(): string;
  state(): ServiceState;
  status(): StatusReport;
  /** True from the end of postStart until stopping begins. */
  isReady(): boolean;
  /** True while a resource restart is under way. */
  isRestarting(): boolean;
  /** Stops `name` and everything that depends on it (reverse order), then starts them again in order. */
  restartResource(name: string): Promise<void>;
  /** Stops the service the way SIGTERM does, with the exit code `run` will use. */
  requestStop(reason: string, exitCode: number): void;
  /**
   * The object constructed for the node `name` of `graph` (the microservice under the service's
   * name); undefined for an unknown name or while the graph is still being constructed. Lets a
   * resource find what other resources declare, such as decorated HTTP routes.
   */
  instance(name: string): unknown;
  /**
   * Runs `work` as soon as the service begins stopping, alongside the abort of its tasks; no
   * resource's stop hook runs before it settles. For work the other resources must outlive, such as
   * draining in-flight HTTP requests whose handlers use them. A rejection is a stop failure.
   */
  onStopping(work: () => Promise<void> | void): void;
  /**
   * Runs `work` once the service is ready (after every postStart), before `start()` resolves. For
   * telling the outside the service is there, such as a registry entry. A rejection is logged.
   */
  onReady(work: () => Promise<void> | void): void;
  /**
   * Runs `work` when a stop begins, before readiness turns false and before any `onStopping` work
   * (the HTTP drain): for telling peers to stop sending, such as removing a registry entry. The
   * stop waits for it, so it must bound itself. A rejection is logged.
   */
  beforeStopping(work: () => Promise<void> | void): void;
  /**
   * Holds the request context on (`currentRequestId()`, `contextValue()`) from now until this
   * service's stop ends, where it is not on by default (Node 20 and 22); for a resource that reads
   * or passes on the request being served. A second call changes nothing.
   */
  useRequestContext(): void;
}

/** What an app answers its handle's calls from: most of them as they are. */
export interface HandleHost extends Pick<
  ServiceHandle,
  | 'name'
  | 'graph'
  | 'tracing'
  | 'state'
  | 'status'
  | 'isReady'
  | 'isRestarting'
  | 'restartResource'
  | 'requestStop'
  | 'useRequestContext'
> {
  readonly settings: SettingsProvider;
  readonly announcements: Announcements;
  /** The graph's instances; undefined while the constructors run, so that none sees its peers. */
  instances(): readonly unknown[] | undefined;
}

export function createServiceHandle(host: HandleHost): ServiceHandle {
  const { announcements, settings, instances: _instances, ...passed } = host;
  return {
    ...passed,
    env: settings.env,
    deployName: () => deployNameOf(settings) ?? host.name,
    instance: (name) => {
      const node = host.graph.byName.get(name);
      return node === undefined ? undefined : host.instances()?.[node.index];
    },
    onStopping: (work) => announcements.onStopping(work),
    onReady: (work) => announcements.onReady(work),
    beforeStopping: (work) => announcements.onBeforeStopping(work),
  };
}
