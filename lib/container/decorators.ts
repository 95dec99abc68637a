// inversify's decorators record constructor types through the Reflect metadata API; every module that
// declares a resource imports this file first, so the polyfill is in place before any decorator runs.
import 'reflect-metadata';
import { injectable } from './inversify';
import type { SettingsRule, SettingsSchema } from '../settings/types';
import { MAX_TIMER_MS } from '../settings/formats';
import { addGraphCheck, type GraphCheck } from './checks';
import { GraphError } from './errors';
import type { Provider, ResourceClass } from './provider';

export interface ResourceOptions {
  /** Convict schema of `system.resources.<name>`; the resource's SETTINGS view is validated against it. */
  settings?: SettingsSchema;
  /** Rules across keys of `settings` (checked with them, at load and on every update). */
  settingsRules?: readonly SettingsRule[];
  /**
   * The name used when this class is needed by another resource but not listed in a module's
   * `resources`. Defaults to the class name in snake case without a `Resource` suffix.
   */
  name?: string;
  /**
   * Whether this resource reporting FAILED turns readiness (`/health/ready`) to 503; true by
   * default. False for a resource the service can serve without (a cache, an optional feed).
   */
  readiness?: boolean;
  /** Rules every graph this resource is part of must satisfy, checked before anything is constructed. */
  checks?: readonly GraphCheck[];
  /**
   * How long each of this resource's hooks may take, in ms, over `system.lifecycle.hook_timeout_ms`
   * (a slow migration's start need not lengthen every other hook's); the setting
   * `system.resources.<name>.hook_timeout_ms` is above both.
   */
  hookTimeoutMs?: number;
}

export interface MicroserviceOptions {
  name: string;
  /** Resources by name: the name is the settings path, the logger, the /status row and the metrics label. */
  resources?: Record<string, ResourceClass>;
  /** Non-resource values that resources inject by token (a pool, a client, a constant). */
  providers?: Provider[];
  /** Leave out the built-in resources (report server, metrics, status); on by default. */
  defaultResources?: boolean;
  /** Rules the service's graph must satisfy, checked before anything is constructed. */
  checks?: readonly GraphCheck[];
}

const resourceOptions = new WeakMap<object, ResourceOptions>();
const microserviceOptions = new WeakMap<object, MicroserviceOptions>();

/** Marks a class as a resource: injectable, created once per name, driven by the lifecycle. */
export function resource(options: ResourceOptions = {}): ClassDecorator {
  const { hookTimeoutMs } = options;
  if (
    hookTimeoutMs !== undefined &&
    !(Number.isInteger(hookTimeoutMs) && hookTimeoutMs > 0 && hookTimeoutMs <= MAX_TIMER_MS)
  ) {
    throw new GraphError(
      'INVALID_OPTION',
      `@resource({ hookTimeoutMs }) must be a whole number of ms from 1 to ${MAX_TIMER_MS}, got ${String(hookTimeoutMs)}`,
    );
  }
  return (target) => {
    injectable('Singleton')(target);
    resourceOptions.set(target, options);
    for (const check of options.checks ?? []) addGraphCheck(target, check);
  };
}

export function microservice(options: MicroserviceOptions): ClassDecorator {
  return (target) => {
    injectable('Singleton')(target);
    microserviceOptions.set(target, options);
    for (const check of options.checks ?? []) addGraphCheck(target, check);
  };
}

/**
 * A class's own `@resource` options over those of the classes it extends: a subclass of a built-in
 * resource keeps its schema, rules and name unless it declares its own.
 */
export function resourceOptionsOf(target: object): ResourceOptions | undefined {
  const own = resourceOptions.get(target);
  const base: unknown = Object.getPrototypeOf(target);
  const inherited =
    typeof base === 'function' && base !== Function.prototype ? resourceOptionsOf(base) : undefined;
  if (inherited === undefined) return own;
  return own === undefined ? inherited : { ...inherited, ...definedOnly(own) };
}

function definedOnly(options: ResourceOptions): ResourceOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

export function microserviceOptionsOf(target: object): MicroserviceOptions | undefined {
  return microserviceOptions.get(target);
}

export function defaultResourceName(target: ResourceClass): string {
  const explicit = resourceOptions.get(target)?.name;
  if (explicit !== undefined) return explicit;
  const base = target.name.replace(/Resource$/, '') || target.name;
  return base
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
