export {
  WorkerPoolResource,
  WorkerPoolError,
  WorkerTaskError,
  defineWorkerTask,
  workerPoolSchema,
  type WorkerPoolErrorCode,
  type WorkerPoolSettings,
  type WorkerPoolState,
  type WorkerPoolStats,
  type WorkerFunction,
  type WorkerTask,
} from './worker-pool';
export { MetricsResource } from './metrics';
export {
  ReportServerResource,
  reportServerSchema,
  type DebugHandler,
  type DebugReply,
} from './report-server';
export { StatusResource, statusSchema } from './status';
export * from './registry';
export * from './diagnostics';
export {
  claimDecorated,
  connectingHealth,
  quotedList,
  type Claimed,
  type ClaimRules,
  type Declared,
} from './decorated';
