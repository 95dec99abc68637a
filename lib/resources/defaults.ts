import type { ResourceClass } from '../container/provider';
import { MetricsResource } from './metrics';
import { ReportServerResource } from './report-server';
import { StatusResource } from './status';

/** What every microservice gets unless it says `defaultResources: false` or lists its own under the name. */
export const DEFAULT_RESOURCES: Readonly<Record<string, ResourceClass>> = Object.freeze({
  metrics: MetricsResource,
  status: StatusResource,
  report_server: ReportServerResource,
});
