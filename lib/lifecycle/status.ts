import type { SettingsHealth } from '../settings/provider';
import type { BreakerReport } from '../resilience/breaker';
export enum ResourceStatus {
  NOT_STARTED = 'NOT_STARTED',
  CONNECTING = 'CONNECTING',
  STARTED = 'STARTED',
  STOPPING = 'STOPPING',
  STOPPED = 'STOPPED',
  FAILED = 'FAILED',
}

export type StartPhase = 'preStart' | 'start' | 'postStart';
export type StopPhase = 'stop' | 'postStop';
export type Phase = StartPhase | StopPhase;
export const START_PHASES: readonly StartPhase[] = ['preStart', 'start', 'postStart'];
export const STOP_PHASES: readonly StopPhase[] = ['stop', 'postStop'];

/** Optional hooks of a resource; each may be sync or async. */
export interface OnPreStart {
  preStart(): unknown;
}
export interface OnStart {
  start(): unknown;
}
export interface OnPostStart {
  postStart(): unknown;
}
export interface OnStop {
  stop(): unknown;
}
export interface OnPostStop {
  postStop(): unknown;
}

export interface HookTiming {
  /** Milliseconds from the beginning of `app.start()` to the hook's call. */
  offsetMs: number;
  durationMs: number;
}

export interface ResourceReport {
  name: string;
  status: ResourceStatus;
  /** Why it failed, or what the resource's own `status()` said. */
  statusText?: string;
  /** Present, and false, while the resource's own `status()` holds readiness down. */
  ready?: false;
  /** The circuit breakers of what the resource calls (an HTTP client's origins or instances). */
  breakers?: readonly BreakerReport[];
  /** What the resource's own `status()` shows of itself. */
  details?: Readonly<Record<string, unknown>>;
  phases: Partial<Record<Phase, HookTiming>>;
  dependsOn: string[];
}

export type ServiceState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface StatusReport {
  service: string;
  state: ServiceState;
  resources: ResourceReport[];
  /** Where the settings come from and, from etcd, how current they are. */
  settings?: SettingsHealth;
}
