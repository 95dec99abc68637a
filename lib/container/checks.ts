import type { ResourceGraph } from './graph';

/** A rule a built graph must satisfy; it throws a GraphError naming what is wrong. */
export type GraphCheck = (graph: ResourceGraph) => void;

const checksByPrototype = new WeakMap<object, GraphCheck[]>();

/**
 * Attaches `check` to a class (given as the class or its prototype, as a method decorator gets it):
 * every graph the class or a subclass of it is part of is checked by it before anything is
 * constructed. For the mistakes only a feature knows: `@http` attaches "routes need an
 * HttpServerResource to serve them". A check attached to several classes of one graph runs once.
 */
export function addGraphCheck(target: object, check: GraphCheck): void {
  const prototype = typeof target === 'function' ? (target.prototype as object) : target;
  const own = checksByPrototype.get(prototype) ?? [];
  if (!own.includes(check)) own.push(check);
  checksByPrototype.set(prototype, own);
}

/** The checks attached to `prototype`'s class and the classes it extends. */
export function graphChecksOfPrototype(prototype: object | null): GraphCheck[] {
  const checks: GraphCheck[] = [];
  for (let proto = prototype; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    checks.push(...(checksByPrototype.get(proto) ?? []));
  }
  return checks;
}
