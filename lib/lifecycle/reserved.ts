import { GraphError } from '../container/errors';
import type { GraphNode } from '../container/graph';
import { LOGGER, METRICS, METRICS_REGISTRY, RESOURCE_NAME, SERVICE, SETTINGS } from '../container/tokens';
import type { Meters } from '../metrics';
import type { SettingsProvider } from '../settings';
import type { LogOutput } from '../logging/output';
import type { ServiceHandle } from './service-handle';
import { resourceSettingsPath } from './settings';

/** What the reserved tokens (`@inject(SETTINGS)`, `LOGGER`, ...) are answered from. */
export interface ReservedSources {
  settings: SettingsProvider;
  output: LogOutput;
  handle: ServiceHandle;
  meters: Meters;
}

/** The value of a reserved token for the node that injects it: most are scoped to its name. */
export function reservedValue(sources: ReservedSources, node: GraphNode, token: symbol): unknown {
  switch (token) {
    case SETTINGS:
      return sources.settings.view(node.kind === 'service' ? 'system' : resourceSettingsPath(node.name));
    case LOGGER:
      return sources.output.forResource(node.name);
    case RESOURCE_NAME:
      return node.name;
    case SERVICE:
      return sources.handle;
    case METRICS:
      return sources.meters.forResource(node.name);
    case METRICS_REGISTRY:
      return sources.meters;
    default:
      throw new GraphError('MISSING_PROVIDER', `unknown reserved token ${token.toString()}`, node.chain);
  }
}
