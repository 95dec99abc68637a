export { ProfilerResource } from './profiler';
export { MemoryAnalyzerResource, type HeapSnapshotFile } from './memory-analyzer';
export { DiagnosticsError, type DiagnosticsErrorCode } from './errors';
export type { FunctionTime } from './cpu-profile';
export type { SiteGrowth } from './heap-growth';
export {
  profilerSchema,
  memoryAnalyzerSchema,
  type ProfilerSettings,
  type MemoryAnalyzerSettings,
} from './settings';
