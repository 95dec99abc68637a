import { Container, decorate, inject } from 'inversify';
import { microservice, Microservice, resource, type Phase, type ResourceClass } from '../../../lib';
import type { Dag } from './dag';

export type Hooks = Partial<Record<Phase, () => unknown>>;

/** Each bench's resources are registered under these names, in DAG order. */
export function resourceName(index: number): string {
  return `r${index}`;
}

/**
 * One class per DAG node, made at run time the way the decorators would make it by hand:
 * `@resource()` on the class and `@inject(Dependency)` on each constructor parameter.
 * `hooksOf(index)` gives that class its own lifecycle methods (none by default).
 */
export function resourceClasses(dag: Dag, hooksOf: (index: number) => Hooks = () => ({})): ResourceClass[] {
  const classes: ResourceClass[] = [];
  dag.forEach((dependsOn, index) => {
    const cls = class {
      readonly dependencies: unknown[];
      constructor(...dependencies: unknown[]) {
        this.dependencies = dependencies;
      }
    };
    Object.defineProperty(cls, 'name', { value: `BenchResource${index}` });
    Object.assign(cls.prototype, hooksOf(index));
    dependsOn.forEach((dependency, position) => decorate(inject(classes[dependency]), cls, position));
    resource()(cls);
    classes.push(cls);
  });
  return classes;
}

/**
 * A microservice listing every class under its `resourceName`; `Base` may time the phases.
 * The built-in resources (report server, metrics, status) are left out: the benches compare Keel
 * and the floor on exactly the same classes, and no bench binds a fixed port.
 */
export function serviceOf(
  name: string,
  classes: readonly ResourceClass[],
  Base: abstract new () => Microservice = Microservice,
): ResourceClass<Microservice> {
  const resources = Object.fromEntries(classes.map((cls, index) => [resourceName(index), cls]));
  const Service = class extends Base {};
  Object.defineProperty(Service, 'name', { value: `${name}Service` });
  microservice({ name, resources, defaultResources: false })(Service);
  return Service;
}

/** The floor: what inversify alone does with the same classes, bound as singletons and each fetched once. */
export function resolveWithInversify(classes: readonly ResourceClass[]): unknown[] {
  const container = new Container();
  for (const cls of classes) container.bind(cls).toSelf().inSingletonScope();
  return classes.map((cls) => container.get(cls));
}
