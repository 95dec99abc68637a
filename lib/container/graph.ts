import {
  ClassElementMetadataKind,
  getClassMetadata,
  LazyServiceIdentifier,
  type ClassElementMetadata,
} from './inversify';
import type { SettingsSchema } from '../settings/types';
import { defaultResourceName, microserviceOptionsOf, resourceOptionsOf } from './decorators';
import { graphChecksOfPrototype, type GraphCheck } from './checks';
import { CHAIN_ARROW, GraphError } from './errors';
import { describeToken, type Provision, type ResourceClass, type Token } from './provider';
import { nameOfResourceToken, RESERVED_TOKENS } from './tokens';

export type NodeKind = 'service' | 'resource' | 'provider';

export type InjectionTarget =
  { kind: 'constructor'; index: number } | { kind: 'property'; key: string | symbol };

export type Resolution =
  | { kind: 'node'; node: number }
  | { kind: 'nodes'; nodes: number[] }
  | { kind: 'reserved'; token: symbol }
  | { kind: 'absent' };

export interface Dependency {
  target: InjectionTarget;
  resolution: Resolution;
}

export interface GraphNode {
  /** Position in `ResourceGraph.nodes`, which is a topological order: dependencies come first. */
  index: number;
  name: string;
  kind: NodeKind;
  provision: Provision;
  /** The class the module declared for this name, before a test's override replaced it. */
  declaredClass?: ResourceClass;
  settings?: SettingsSchema;
  dependencies: Dependency[];
  /** Distinct nodes this one needs, and those that need it: the edges the lifecycle walks. */
  dependsOn: number[];
  dependents: number[];
  /** Names from the microservice down to this node, as first discovered. */
  chain: readonly string[];
  postConstruct: (string | symbol)[];
}

export interface ResourceGraph {
  serviceName: string;
  nodes: GraphNode[];
  service: GraphNode;
  byName: ReadonlyMap<string, GraphNode>;
  /** Every token a node can be fetched by: its class (when unambiguous), `resourceToken(name)`, a provider's token. */
  byToken: ReadonlyMap<unknown, GraphNode>;
}

/** What a test swaps in: by resource name (a string) or by class or token. */
export interface Override {
  target: string | Token;
  provision: Provision;
}

export interface GraphInput {
  service: ResourceClass;
  overrides?: readonly Override[];
  /**
   * Resources added under these names unless the module says `defaultResources: false` or lists its
   * own under the name: the built-in report server, metrics and status (`createMicroservice` passes them).
   */
  defaults?: Readonly<Record<string, ResourceClass>>;
}

interface Registration {
  name: string;
  kind: NodeKind;
  provision: Provision;
  /** The class the module declared, before any override: what injections by class look for. */
  declaredClass?: ResourceClass;
  /** Where the registration came from, for DUPLICATE_NAME messages. */
  origin: string;
  token?: Token;
}

const VISITING = 1;
const DONE = 2;

/**
 * Reads the module definition and inversify's class metadata into a dependency graph, without
 * constructing anything: every missing provider, cycle or ambiguity is found here, with its chain.
 */
export function buildGraph(input: GraphInput): ResourceGraph {
  const graph = withoutOrphans(input, new GraphBuilder(input).build());
  for (const check of graphChecks(graph)) check(graph);
  return graph;
}

/**
 * A listed resource whose every user a test replaced leaves the graph, and what only it needed
 * with it: a test that fakes the repository does not also connect the repository's pool. It stays
 * when nothing used it to begin with (a listed server is used by being listed), when the test
 * replaced it, or when a check of the graph needs it (a service's `@subscribe` handlers need its
 * AMQP resource though nothing injects it).
 */
function withoutOrphans(input: GraphInput, graph: ResourceGraph): ResourceGraph {
  if ((input.overrides ?? []).length === 0) return graph;
  let declared: ResourceGraph;
  try {
    declared = new GraphBuilder({ ...input, overrides: [] }).build();
  } catch {
    // Only the test's overrides complete this graph: what the service used cannot be told, so all stays.
    return graph;
  }
  const listed = new Set(Object.keys(microserviceOptionsOf(input.service)?.resources ?? {}));
  const excluded = new Set<string>();
  for (let current = graph; ;) {
    const orphans = current.nodes.filter(
      (node) =>
        listed.has(node.name) &&
        node.dependents.length === 0 &&
        !isReplaced(node) &&
        (declared.byName.get(node.name)?.dependents.length ?? 0) > 0,
    );
    if (orphans.length === 0) return current;
    for (const node of orphans) excluded.add(node.name);
    const pruned = new GraphBuilder(input, excluded).build();
    if (!passesChecks(pruned)) return current;
    current = pruned;
  }
}

const isReplaced = (node: GraphNode): boolean =>
  !('useClass' in node.provision) || node.provision.useClass !== node.declaredClass;

function passesChecks(graph: ResourceGraph): boolean {
  try {
    for (const check of graphChecks(graph)) check(graph);
    return true;
  } catch {
    return false;
  }
}

/** The checks attached to the classes of the graph's nodes (and the classes they extend), each once. */
function graphChecks(graph: ResourceGraph): Set<GraphCheck> {
  const checks = new Set<GraphCheck>();
  for (const node of graph.nodes) {
    for (const check of graphChecksOfPrototype(declaredPrototype(node))) checks.add(check);
  }
  return checks;
}

class GraphBuilder {
  private readonly serviceName: string;
  private readonly registrations = new Map<string, Registration>();
  private readonly namesByClass = new Map<unknown, string[]>();
  private readonly providerNamesByToken = new Map<unknown, string[]>();
  private readonly overridesByName = new Map<string, Provision>();
  private readonly overridesByToken = new Map<unknown, Provision>();
  private readonly state = new Map<string, number>();
  private readonly nodes: GraphNode[] = [];
  private readonly nodeByName = new Map<string, GraphNode>();
  private readonly path: string[] = [];

  constructor(
    private readonly input: GraphInput,
    /** Listed resources left out unless another node needs them (`withoutOrphans`). */
    private readonly excluded: ReadonlySet<string> = new Set(),
  ) {
    const options = microserviceOptionsOf(input.service);
    const className = input.service?.name ?? String(input.service);
    if (options === undefined) {
      throw new GraphError(
        'NOT_A_RESOURCE',
        `${className} is not decorated with @microservice({ name, resources })`,
      );
    }
    if (typeof options.name !== 'string' || options.name.trim() === '') {
      throw new GraphError(
        'MISSING_NAME',
        `@microservice on ${className} has no name: give it { name: 'my_service' }`,
      );
    }
    this.serviceName = options.name;
    for (const override of input.overrides ?? []) {
      checkProvision(override.provision, `the override of ${describeToken(override.target)}`);
      if (typeof override.target === 'string') this.overridesByName.set(override.target, override.provision);
      else this.overridesByToken.set(override.target, override.provision);
    }
    this.register({
      name: this.serviceName,
      kind: 'service',
      provision: { useClass: input.service },
      declaredClass: input.service,
      origin: `the microservice ${className}`,
    });
    for (const [name, cls] of Object.entries(options.resources ?? {})) {
      this.registerResource(name, cls, `${this.serviceName}.resources.${name}`);
    }
    if (options.defaultResources !== false) {
      for (const [name, cls] of Object.entries(input.defaults ?? {})) {
        if (!this.registrations.has(name)) this.registerResource(name, cls, `built-in resource ${name}`);
      }
    }
    for (const provider of options.providers ?? []) {
      const { provide, ...declared } = provider;
      const name = describeToken(provide);
      checkProvision(declared, `${this.serviceName}.providers entry ${name}`);
      const provision = this.overridesByToken.get(provide) ?? declared;
      this.register({
        name,
        kind: 'provider',
        provision,
        token: provide,
        origin: `${this.serviceName}.providers`,
      });
      this.providerNamesByToken.set(provide, [...(this.providerNamesByToken.get(provide) ?? []), name]);
    }
    for (const [name] of this.overridesByName) {
      if (!this.registrations.has(name)) {
        throw new GraphError(
          'MISSING_PROVIDER',
          `cannot override '${name}': ${this.serviceName} has no resource of that name (it has: ${[...this.registrations.keys()].join(', ')})`,
        );
      }
    }
  }

  build(): ResourceGraph {
    const service = this.registrations.get(this.serviceName)!;
    for (const registration of this.registrations.values()) {
      if (registration.kind === 'resource' && !this.excluded.has(registration.name))
        this.visit(registration, [this.serviceName]);
    }
    this.visit(service, []);
    for (const node of this.nodes) {
      for (const dependency of node.dependsOn) this.nodes[dependency].dependents.push(node.index);
    }
    return {
      serviceName: this.serviceName,
      nodes: this.nodes,
      service: this.nodeByName.get(this.serviceName)!,
      byName: this.nodeByName,
      byToken: this.tokenIndex(),
    };
  }

  private registerResource(name: string, cls: ResourceClass, origin: string): Registration {
    const overridden = this.overridesByName.get(name) ?? this.overridesByToken.get(cls);
    if (overridden === undefined && (typeof cls !== 'function' || resourceOptionsOf(cls) === undefined)) {
      const what = typeof cls === 'function' ? `class ${cls.name}` : `${String(cls)} (an import cycle?)`;
      throw new GraphError(
        'NOT_A_RESOURCE',
        `resource '${name}' (${origin}): ${what} is not decorated with @resource()`,
        [this.serviceName, name],
      );
    }
    const registration: Registration = {
      name,
      kind: 'resource',
      provision: overridden ?? { useClass: cls },
      declaredClass: cls,
      origin,
    };
    this.register(registration);
    this.namesByClass.set(cls, [...(this.namesByClass.get(cls) ?? []), name]);
    return registration;
  }

  private register(registration: Registration): void {
    const existing = this.registrations.get(registration.name);
    if (existing !== undefined) {
      throw new GraphError(
        'DUPLICATE_NAME',
        `the name '${registration.name}' is registered twice: ${describeRegistration(existing)} and ${describeRegistration(registration)}`,
        [this.serviceName, registration.name],
      );
    }
    this.registrations.set(registration.name, registration);
  }

  private visit(registration: Registration, chainAbove: readonly string[]): GraphNode {
    const { name } = registration;
    const state = this.state.get(name);
    if (state === DONE) return this.nodeByName.get(name)!;
    const chain = [...chainAbove, name];
    if (state === VISITING) {
      const loopStart = this.path.indexOf(name);
      const loop = [...this.path.slice(loopStart), name];
      throw new GraphError('CYCLE', `dependency cycle: ${loop.join(CHAIN_ARROW)}`, loop);
    }
    this.state.set(name, VISITING);
    this.path.push(name);

    const { elements, postConstruct, settings } = this.describe(registration, chain);
    const dependencies: Dependency[] = [];
    const dependsOn = new Set<number>();
    for (const { target, element } of elements) {
      const resolution = this.resolve(element, target, registration, chain);
      if (resolution.kind === 'node') dependsOn.add(resolution.node);
      if (resolution.kind === 'nodes') resolution.nodes.forEach((node) => dependsOn.add(node));
      dependencies.push({ target, resolution });
    }

    this.path.pop();
    this.state.set(name, DONE);
    const node: GraphNode = {
      index: this.nodes.length,
      name,
      kind: registration.kind,
      provision: registration.provision,
      declaredClass: registration.declaredClass,
      settings,
      dependencies,
      dependsOn: [...dependsOn],
      dependents: [],
      chain,
      postConstruct,
    };
    this.nodes.push(node);
    this.nodeByName.set(name, node);
    return node;
  }

  private resolve(
    element: ElementRequest,
    target: InjectionTarget,
    owner: Registration,
    chain: readonly string[],
  ): Resolution {
    const token = LazyServiceIdentifier.is(element.token) ? element.token.unwrap() : element.token;
    if (RESERVED_TOKENS.has(token)) return { kind: 'reserved', token: token as symbol };
    const where = () => `${describeTarget(target)} of ${describeOwner(owner)}`;
    const candidates = this.candidates(token, element.named, chain);

    if (element.multiple) {
      const nodes = candidates.map((candidate) => this.visit(candidate, chain).index);
      if (nodes.length === 0 && !element.optional) {
        throw this.missing(token, chain, where());
      }
      return { kind: 'nodes', nodes };
    }
    if (candidates.length > 1) {
      const names = candidates.map((candidate) => `'${candidate.name}'`).join(', ');
      throw new GraphError(
        'AMBIGUOUS_PROVIDER',
        `${[...chain, describeToken(token)].join(CHAIN_ARROW)}: ${where()} asks for ${describeToken(token)}, ` +
          `which is registered as ${names}; inject one by name with @inject(resourceToken('${candidates[0].name}'))`,
        chain,
      );
    }
    if (candidates.length === 1) return { kind: 'node', node: this.visit(candidates[0], chain).index };
    if (element.optional) return { kind: 'absent' };
    throw this.missing(token, chain, where());
  }

  private candidates(token: unknown, named: string | undefined, chain: readonly string[]): Registration[] {
    const byName = named ?? nameOfResourceToken(token);
    if (byName !== undefined) {
      const registration = this.registrations.get(byName);
      return registration === undefined ? [] : [registration];
    }
    const names = this.namesByClass.get(token) ?? this.providerNamesByToken.get(token);
    if (names !== undefined) return names.map((name) => this.registrations.get(name)!);
    if (typeof token === 'function' && resourceOptionsOf(token) !== undefined) {
      const cls = token as ResourceClass;
      const origin = `not listed, default name of ${cls.name}, needed by ${chain.join(CHAIN_ARROW)}`;
      return [this.registerResource(defaultResourceName(cls), cls, origin)];
    }
    const overridden = this.overridesByToken.get(token);
    if (overridden !== undefined) {
      const name = describeToken(token);
      const registration: Registration = {
        name,
        kind: 'provider',
        provision: overridden,
        token: token as Token,
        origin: 'a test override',
      };
      this.register(registration);
      this.providerNamesByToken.set(token, [name]);
      return [registration];
    }
    return [];
  }

  private missing(token: unknown, chain: readonly string[], where: string): GraphError {
    const hint =
      token === Object || token === undefined
        ? ` (its type is ${String(token === Object ? 'Object' : 'undefined')}: an interface or union type emits no usable ` +
          `token, and undefined means an import cycle; use @inject(TOKEN) or LazyServiceIdentifier)`
        : `; list it in ${this.serviceName}'s resources or providers, or mark the injection @optional()`;
    return new GraphError(
      'MISSING_PROVIDER',
      `${[...chain, describeToken(token)].join(CHAIN_ARROW)}: no provider for ${describeToken(token)}, needed by ${where}${hint}`,
      [...chain],
    );
  }

  private describe(
    registration: Registration,
    chain: readonly string[],
  ): ReturnType<typeof describeProvision> {
    try {
      return describeProvision(registration);
    } catch (error) {
      // inversify refuses classes whose constructor parameters carry no usable type metadata.
      throw new GraphError(
        'MISSING_PROVIDER',
        `${chain.join(CHAIN_ARROW)}: cannot read the dependencies of ${describeRegistration(registration)}: ${String(error instanceof Error ? error.message : error).replace(/\s+/g, ' ')}` +
          ' (a parameter typed by an interface or union type emits no usable token: use @inject(TOKEN))',
        chain,
        { cause: error },
      );
    }
  }

  private tokenIndex(): Map<unknown, GraphNode> {
    const index = new Map<unknown, GraphNode>();
    for (const registration of this.registrations.values()) {
      const node = this.nodeByName.get(registration.name);
      if (node === undefined) continue;
      index.set(registration.name, node);
      if (registration.token !== undefined) index.set(registration.token, node);
      if (registration.declaredClass !== undefined && this.classIsUnambiguous(registration.declaredClass)) {
        index.set(registration.declaredClass, node);
      }
    }
    return index;
  }

  private classIsUnambiguous(cls: ResourceClass): boolean {
    return (this.namesByClass.get(cls)?.length ?? 1) === 1;
  }
}

interface ElementRequest {
  token: unknown;
  optional: boolean;
  multiple: boolean;
  named?: string;
}

function describeProvision(registration: Registration): {
  elements: { target: InjectionTarget; element: ElementRequest }[];
  postConstruct: (string | symbol)[];
  settings?: SettingsSchema;
} {
  const { provision } = registration;
  if ('useValue' in provision) return { elements: [], postConstruct: [] };
  if ('useFactory' in provision) {
    const elements = (provision.inject ?? []).map((token, index) => ({
      target: { kind: 'constructor', index } as InjectionTarget,
      element: { token, optional: false, multiple: false },
    }));
    return { elements, postConstruct: [] };
  }
  const metadata = getClassMetadata(provision.useClass);
  const elements: { target: InjectionTarget; element: ElementRequest }[] = [];
  constructorSource(provision.useClass, metadata).constructorArguments.forEach((element, index) => {
    const request = toRequest(element);
    if (request !== undefined) elements.push({ target: { kind: 'constructor', index }, element: request });
  });
  for (const [key, element] of metadata.properties) {
    const request = toRequest(element);
    if (request !== undefined) elements.push({ target: { kind: 'property', key }, element: request });
  }
  return {
    elements,
    postConstruct: [...metadata.lifecycle.postConstructMethodNames],
    // A swapped-in value or factory brings no schema: a test's fake needs no settings of the real resource.
    settings: resourceOptionsOf(provision.useClass)?.settings,
  };
}

/**
 * A subclass without a constructor of its own is built by its base's: inversify reads only the
 * class's own parameter metadata, so `class MyAmqp extends AmqpResource {}` would get no arguments.
 * A constructor of its own emits `design:paramtypes` (or carries `@inject`s) and is read as it is.
 */
function constructorSource(cls: ResourceClass, metadata: ReturnType<typeof getClassMetadata>) {
  let current: unknown = cls;
  let read = metadata;
  while (
    read.constructorArguments.length === 0 &&
    Reflect.getOwnMetadata('design:paramtypes', current as object) === undefined
  ) {
    const base: unknown = Object.getPrototypeOf(current);
    if (typeof base !== 'function' || base === Function.prototype) break;
    current = base;
    read = getClassMetadata(base as ResourceClass);
  }
  return read;
}

/**
 * The prototype of what a node will be, before it is constructed: its class's, or a swapped-in
 * value's; null for a factory. What checks of decorated methods (routes, tasks) read.
 */
export function declaredPrototype(node: GraphNode): object | null {
  const { provision } = node;
  if ('useClass' in provision) return provision.useClass.prototype as object;
  if ('useValue' in provision && typeof provision.useValue === 'object' && provision.useValue !== null)
    return Object.getPrototypeOf(provision.useValue) as object | null;
  return null;
}

function toRequest(element: ClassElementMetadata | undefined): ElementRequest | undefined {
  if (element === undefined || element.kind === ClassElementMetadataKind.unmanaged) return undefined;
  return {
    token: element.value,
    optional: element.optional,
    multiple: element.kind === ClassElementMetadataKind.multipleInjection,
    named: typeof element.name === 'string' ? element.name : undefined,
  };
}

function describeTarget(target: InjectionTarget): string {
  return target.kind === 'constructor'
    ? `constructor parameter #${target.index}`
    : `property ${String(target.key)}`;
}

function describeOwner(registration: Registration): string {
  const { provision } = registration;
  if ('useClass' in provision) return `${provision.useClass.name} ('${registration.name}')`;
  return `'${registration.name}'`;
}

function describeRegistration(registration: Registration): string {
  const { provision } = registration;
  const what = 'useClass' in provision ? provision.useClass.name : registration.kind;
  return `${what} (${registration.origin})`;
}

/**
 * A `useClass` or `useFactory` that is not a function (an import that resolved to undefined, most
 * often) is named here, before construction would fail on it with a bare TypeError.
 */
function checkProvision(provision: Provision, what: string): void {
  const key = 'useClass' in provision ? 'useClass' : 'useFactory' in provision ? 'useFactory' : undefined;
  if (key === undefined) {
    if ('useValue' in provision) return;
    throw new GraphError('INVALID_PROVIDER', `${what} has none of useValue, useClass or useFactory`);
  }
  const given: unknown = (provision as Record<string, unknown>)[key];
  if (typeof given === 'function') return;
  const wanted = key === 'useClass' ? 'a class' : 'a function';
  throw new GraphError('INVALID_PROVIDER', `${what}: ${key} must be ${wanted}, got ${describeValue(given)}`);
}

function describeValue(value: unknown): string {
  return value === null || value === undefined ? String(value) : typeof value;
}
