import { registerDefaultResource, registerGraphCheck } from '../container/defaults';
import { requireServerForRoutes } from './http/route-check';
import { MetricsResource } from './metrics';
import { ReportServerResource } from './report-server';
import { StatusResource } from './status';

// Every microservice gets these unless it says `defaultResources: false` or lists its own under the name.
registerDefaultResource('metrics', MetricsResource);
registerDefaultResource('status', StatusResource);
registerDefaultResource('report_server', ReportServerResource);
registerGraphCheck(requireServerForRoutes);
