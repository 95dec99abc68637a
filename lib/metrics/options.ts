import type { LabelValues } from './labels';

export interface MeterOptions<L extends string = string> {
  /** Required: Prometheus shows it, and a changed help is how a changed meaning is caught. */
  help: string;
  /** Labels bound at creation: `{ status_code: 200 }`. */
  labels?: LabelValues;
  /** Further label names, bound later per call site with `.labels({...})`. */
  labelNames?: readonly L[];
}

export interface SummaryOptions<L extends string = string> extends MeterOptions<L> {
  /** Default 0.5, 0.75, 0.9, 0.95, 0.99 (Tamarco's). */
  percentiles?: readonly number[];
  /** Length of the sliding window the quantiles cover. Default 600. */
  maxAgeSeconds?: number;
  /** How many slices the window rotates in. Default 5. */
  ageBuckets?: number;
}

export interface HistogramOptions<L extends string = string> extends MeterOptions<L> {
  /** Upper bounds; default prom-client's 5 ms … 10 s. */
  buckets?: readonly number[];
}

export const DEFAULT_PERCENTILES: readonly number[] = [0.5, 0.75, 0.9, 0.95, 0.99];
export const DEFAULT_SUMMARY_WINDOW_SECONDS = 600;
export const DEFAULT_SUMMARY_AGE_BUCKETS = 5;
/** prom-client's defaults (5 ms … 10 s), spelled out so a conflict message shows them. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
