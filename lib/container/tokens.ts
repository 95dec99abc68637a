import type { ServiceIdentifier } from './injection';

/**
 * Reserved injection tokens. They are not resources: Keel resolves each one for the resource
 * that asks, so two resources injecting SETTINGS get two views, each scoped to its own name.
 */
export const SETTINGS: unique symbol = Symbol.for('keel.SETTINGS');
export const LOGGER: unique symbol = Symbol.for('keel.LOGGER');
export const METRICS: unique symbol = Symbol.for('keel.METRICS');
/** The name the asking resource is registered under (`system.resources.<name>`). */
export const RESOURCE_NAME: unique symbol = Symbol.for('keel.RESOURCE_NAME');
/** The service the asking resource belongs to: its status, graph and stop/restart actions. */
export const SERVICE: unique symbol = Symbol.for('keel.SERVICE');
/** The service-wide meters (one prom-client registry): what `/metrics` and push reporters read. */
export const METRICS_REGISTRY: unique symbol = Symbol.for('keel.METRICS_REGISTRY');

export const RESERVED_TOKENS: ReadonlySet<unknown> = new Set([
  SETTINGS,
  LOGGER,
  METRICS,
  METRICS_REGISTRY,
  RESOURCE_NAME,
  SERVICE,
]);

const tokensByName = new Map<string, symbol>();

/** The token of the resource registered under `name`, for one of several instances of one class. */
export function resourceToken<T>(name: string): ServiceIdentifier<T> {
  let token = tokensByName.get(name);
  if (token === undefined) {
    token = Symbol.for(`keel.resource:${name}`);
    tokensByName.set(name, token);
  }
  return token as ServiceIdentifier<T>;
}

export function nameOfResourceToken(token: unknown): string | undefined {
  if (typeof token !== 'symbol') return undefined;
  const description = token.description ?? '';
  return description.startsWith('keel.resource:') ? description.slice('keel.resource:'.length) : undefined;
}
