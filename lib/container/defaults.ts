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
