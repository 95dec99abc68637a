import type { KeelError } from '../errors';
import type { ResourceHealthReport } from '../lifecycle/manager';
import type { ServiceHandle } from '../lifecycle/service-handle';
import { ResourceStatus } from '../lifecycle/status';

/** A decorated method, as its decorator recorded it. */
export interface Declared {
  readonly key: string | symbol;
}

/** How one kind of resource words its refusals, each with its own error class and code. */
export interface ClaimRules<D extends Declared> {
  /** The resource the declaration names (`{ resource }`, `{ server }`), if any. */
  named(declared: D): string | undefined;
  /** `@subscribe('x') on owner.method`, for the error messages. */
  where(declared: D, owner: string): string;
  /** The declaration names a resource of this kind the service does not have. */
  unknown(where: string, named: string, choices: readonly string[]): KeelError;
  /** It names none, and the service has more than one. */
  ambiguous(where: string, choices: readonly string[]): KeelError;
}

/** A declaration this resource takes, with its method bound to the instance that declared it. */
export interface Claimed<D extends Declared> {
  declared: D;
  /** `node.method`, for logs. */
  owner: string;
  /** The microservice or resource that declared it. */
  instance: object;
  call(...args: unknown[]): unknown;
}

/**
 * The decorated methods, on the microservice and every resource of its graph, that the resource
 * `name` handles: those naming it, or every one when it is the only resource of its kind (`isKind`).
 * The HTTP server, AMQP and Kafka resources bind their `@http`, `@subscribe`… and `@consume`
 * methods through it, so each refuses a wrong or missing name the same way.
 */
export function claimDecorated<D extends Declared>(
  service: ServiceHandle,
  name: string,
  isKind: (instance: unknown) => boolean,
  declaredOn: (instance: object) => readonly D[],
  rules: ClaimRules<D>,
): Claimed<D>[] {
  const { graph } = service;
  const choices = graph.nodes.filter((node) => isKind(service.instance(node.name))).map((node) => node.name);
  const claimed: Claimed<D>[] = [];
  for (const node of graph.nodes) {
    const instance = service.instance(node.name);
    if (typeof instance !== 'object' || instance === null) continue;
    for (const declared of declaredOn(instance)) {
      const where = rules.where(declared, node.name);
      const named = rules.named(declared);
      if (named !== undefined && !choices.includes(named)) throw rules.unknown(where, named, choices);
      if (named === undefined && choices.length > 1) throw rules.ambiguous(where, choices);
      if (named !== undefined && named !== name) continue;
      const method = (instance as Record<string | symbol, (...args: unknown[]) => unknown>)[declared.key];
      claimed.push({
        declared,
        owner: `${node.name}.${String(declared.key)}`,
        instance,
        call: (...args) => method.apply(instance, args),
      });
    }
  }
  return claimed;
}

/** `'a', 'b'`: the resources a refusal lists. */
export const quotedList = (names: readonly string[], separator = ', '): string =>
  names.map((name) => `'${name}'`).join(separator);

/**
 * What a client resource reports while its server does not answer: CONNECTING with the reason,
 * holding readiness at 503 unless its `affects_readiness` setting is false.
 */
export function connectingHealth(
  text: string,
  affectsReadiness: boolean,
  details?: ResourceHealthReport['details'],
): ResourceHealthReport {
  return {
    status: ResourceStatus.CONNECTING,
    text,
    ready: !affectsReadiness,
    ...(details !== undefined && { details }),
  };
}
