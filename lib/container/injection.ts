import * as inversify from './inversify';

// The public face of inversify's decorators and tokens. The values are inversify's own; the types
// are declared here, with the same shapes, because inversify's packages publish their types only
// through `exports`, which a consumer on `"module": "commonjs"` (moduleResolution node10) cannot
// read: there every inversify type in Keel's declarations would turn into `any`.

/** A class (abstract or not), a string or a symbol: what a provider is registered and looked up by. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor arguments, as inversify's Newable
export type ServiceIdentifier<T = unknown> = string | symbol | (abstract new (...args: any[]) => T);

/**
 * What `get(name)` returns until the caller names the type (`app.get<Greeter>('greeter')`): a bare
 * name carries none, and nothing can be done with this one, so a wrong guess cannot compile.
 */
export interface ResourceTypeRequired {
  'a resource got by name needs its type: get<Type>(name)': never;
}

/** A token resolved only when the graph is read, for classes that import each other. */
export interface LazyServiceIdentifier<T = unknown> {
  unwrap(): ServiceIdentifier<T>;
}

interface LazyServiceIdentifierClass {
  new <T = unknown>(buildServiceId: () => ServiceIdentifier<T>): LazyServiceIdentifier<T>;
  is<T = unknown>(value: unknown): value is LazyServiceIdentifier<T>;
}

/** Usable on a constructor parameter, a property or a method parameter. */
export type InjectionDecorator = MethodDecorator & ParameterDecorator & PropertyDecorator;

type Token = ServiceIdentifier | LazyServiceIdentifier;

// The casts only name inversify's types with Keel's equivalent ones.
export const LazyServiceIdentifier = inversify.LazyServiceIdentifier as LazyServiceIdentifierClass;
export const inject = inversify.inject as (token: Token) => InjectionDecorator;
export const multiInject = inversify.multiInject as (
  token: Token,
  options?: { chained?: boolean },
) => InjectionDecorator;
export const named = inversify.named as (name: string | number | symbol) => InjectionDecorator;
export const optional = inversify.optional as () => InjectionDecorator;
