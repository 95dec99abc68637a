export { ProfilerResource } from './profiler';
export { MemoryAnalyzerResource } from './memory-analyzer';
export type { FunctionTime } from './cpu-profile';
export type { SiteGrowth } from './heap-growth';
export {
  profilerSchema,
  memoryAnalyzerSchema,
  type ProfilerSettings,
  type MemoryAnalyzerSettings,
} from './settings';
