import type { ResourceGraph } from '../container/graph';
import type { ServiceState, StatusReport } from './status';

/**
 * What a resource may know of the service it belongs to (`@inject(SERVICE)`): its status, its graph,
 * and the two actions restart policies need. The report server and the status resource use
 * nothing else.
 */
export interface ServiceHandle {
  readonly name: string;
  readonly graph: ResourceGraph;
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
}
