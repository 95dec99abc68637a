import type { ResourceGraph } from './graph';
import type { ResourceClass } from './provider';

const defaults = new Map<string, ResourceClass>();

/**
 * Adds a resource to every microservice under `name` (the built-in report server, metrics, ...).
 * A module that lists its own resource under the same name replaces it.
 */
export function registerDefaultResource(name: string, cls: ResourceClass): void {
  defaults.set(name, cls);
}

export function defaultResources(): ReadonlyMap<string, ResourceClass> {
  return defaults;
}

/** A rule a built graph must satisfy; it throws a GraphError naming what is wrong. */
export type GraphCheck = (graph: ResourceGraph) => void;

const checks: GraphCheck[] = [];

/**
 * Adds a rule every graph is checked against before anything is constructed, for the mistakes
 * only a feature knows (routes declared for a server the service does not have).
 */
export function registerGraphCheck(check: GraphCheck): void {
  checks.push(check);
}

export function graphChecks(): readonly GraphCheck[] {
  return checks;
}
