// The decorators and tokens are inversify's own, interchangeable with the `inversify` package's;
// taken from its core packages (bundled in dist), they spare a service the container it does not use.
export {
  inject,
  multiInject,
  named,
  optional,
  LazyServiceIdentifier,
  type InjectionDecorator,
  type ResourceTypeRequired,
  type ServiceIdentifier,
} from './container/injection';
export {
  resource,
  microservice,
  type ResourceOptions,
  type MicroserviceOptions,
} from './container/decorators';
export {
  KeelError,
  ERROR_CODES,
  errorCodeInfo,
  type CodesOf,
  type ErrorCodeInfo,
  type KeelErrorCode,
  requirePeer,
} from './errors';
export { GraphError, CHAIN_ARROW, type GraphErrorCode } from './container/errors';
export type { Provider, Provision, ResourceClass } from './container/provider';
export {
  SETTINGS,
  LOGGER,
  METRICS,
  METRICS_REGISTRY,
  RESOURCE_NAME,
  SERVICE,
  resourceToken,
} from './container/tokens';
export { addGraphCheck, type GraphCheck } from './container/checks';
export { declaredPrototype, type GraphNode, type ResourceGraph } from './container/graph';
export type { ServiceHandle } from './lifecycle/service-handle';
export type { ResourceHealth, ResourceHealthReport } from './lifecycle/manager';
export { App, type StopOutcome } from './lifecycle/app';
export { createMicroservice, type CreateOptions } from './lifecycle/create';
export { MicroserviceContext, type ContextOptions } from './lifecycle/context';
export {
  LifecycleError,
  HookTimeoutError,
  type HookFailure,
  type LifecycleErrorCode,
} from './lifecycle/errors';
export { isPromiseLike, messageOf } from './util';
export { logMethod, type Log, type LogMethod } from './lifecycle/log';
export { Microservice } from './lifecycle/microservice';
export { run, ExitCode } from './lifecycle/run';
export { enableCompileCache, type CompileCacheState } from './startup/compile-cache';
export {
  ResourceStatus,
  type OnPreStart,
  type OnStart,
  type OnPostStart,
  type OnStop,
  type OnPostStop,
  type HookTiming,
  type ResourceReport,
  type StatusReport,
  type Phase,
} from './lifecycle/status';
export { cron, task, taskTimer, type TaskOptions, type TaskTimerOptions } from './lifecycle/tasks';
export type { CronOptions } from './lifecycle/cron';
export { systemClock, type Clock } from './lifecycle/clock';
export { Test, TestingModuleBuilder, type OverrideBuilder } from './testing/harness';
export * from './resources';
export { instanceIdentity, type InstanceIdentity } from './identity/instance';
export {
  Meters,
  type MeterFactory,
  Counter,
  Gauge,
  Summary,
  Histogram,
  MetricsError,
  MetricConflictError,
  MetricLabelError,
  MetricValueError,
  MetricsReporters,
  metricsSchema,
  type MetricsReportersContext,
  type MetricsSettings,
} from './metrics';
export { CliError, UsageError, type CliErrorCode } from './cli/io';
export {
  defineSettings,
  SettingsProvider,
  SettingsError,
  redact,
  redactUrl,
  maskText,
  isSecretKey,
  MAX_TIMER_MS,
  isTimerMs,
  createEtcdClient,
  callDeadline,
  describeHosts,
  etcdOptionsFromEnv,
  normalizePrefix,
  DEFAULT_ETCD_PREFIX,
  EtcdSettingsSource,
  type EtcdChange,
  type EtcdConnectionOptions,
  type EtcdProgress,
  type EtcdWatchHealth,
  type EtcdWatchListener,
  type SettingsHealth,
  type SettingsOf,
  type SettingsRule,
  type SettingsAt,
  type SettingsPath,
  type SettingsView,
  type SettingsIssue,
  type SettingsErrorCode,
  type Unsubscribe,
} from './settings';
export {
  Logger,
  Logging,
  loggingSchema,
  LoggingSettingsError,
  LOG_PROFILES,
  LOG_FORMATS,
  type LogFormat,
  type LoggingSettings,
  type LogProfile,
} from './logging';
export * from './context';
export * from './contracts';
export * from './resources/http';
export * from './resources/amqp';
export * from './resources/kafka';
export * from './resources/postgres';
export * from './resources/redis';
export * from './tracing';
export { fallbackTaken, FALLBACK_WARNING } from './internals/reach';
export {
  Backoff,
  backoffDelay,
  sleep,
  breakerOptions,
  breakerSchema,
  reconnectSchema,
  type BreakerSettings,
  type ReconnectSettings,
  CircuitBreaker,
  Policy,
  PolicyError,
  type Attempt,
  type AttemptOutcome,
  type BackoffOptions,
  type BreakerOptions,
  type BreakerReport,
  type BreakerState,
  type BreakerTransition,
  type BulkheadOptions,
  type CallOptions,
  type FailureRules,
  type PolicyErrorCode,
  type PolicyObserver,
  type PolicyOptions,
  type RejectionReason,
  type RetryOptions,
} from './resilience';
