import type { Phase } from './status';

/** What the app hands the service so that `super.start()` and friends reach the resources. */
export interface ServiceRuntime {
  runPhase(phase: Phase): Promise<void>;
  launchTasks(): void;
  stopTasks(): Promise<void>;
  requestStop(reason: string, exitCode: number): void;
}

const runtimes = new WeakMap<Microservice, ServiceRuntime>();

export function attachRuntime(service: Microservice, runtime: ServiceRuntime): void {
  runtimes.set(service, runtime);
}

function runtimeOf(service: Microservice): ServiceRuntime {
  const runtime = runtimes.get(service);
  if (runtime === undefined) {
    throw new Error(
      `${service.constructor.name} is not managed by Keel: create it with createMicroservice() or run()`,
    );
  }
  return runtime;
}

/**
 * Base class of every microservice. Override a phase to run code around it, and call `super`:
 * that call is what runs the phase for every resource.
 */
export abstract class Microservice {
  async preStart(): Promise<void> {
    await runtimeOf(this).runPhase('preStart');
  }

  async start(): Promise<void> {
    await runtimeOf(this).runPhase('start');
    runtimeOf(this).launchTasks();
  }

  async postStart(): Promise<void> {
    await runtimeOf(this).runPhase('postStart');
  }

  /** Tasks are aborted and awaited first, so no task outlives the resources it uses. */
  async stop(): Promise<void> {
    await runtimeOf(this).stopTasks();
    await runtimeOf(this).runPhase('stop');
  }

  async postStop(): Promise<void> {
    await runtimeOf(this).runPhase('postStop');
  }

  /** Stops the service the same way SIGTERM does. */
  stopGracefully(reason = `requested by ${this.constructor.name}`): void {
    runtimeOf(this).requestStop(reason, 0);
  }
}
