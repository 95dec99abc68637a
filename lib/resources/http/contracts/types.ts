import type { IncomingHttpHeaders } from 'node:http';
import type { ParsedUrlQuery } from 'node:querystring';
import type { RouterContext } from '@koa/router';
import type { ExtendableContext, Request } from 'koa';
import type { Infer, Schema } from '../../../contracts/schema';
import type { UnknownProperties } from '../../../contracts/validator';
import type { HttpState } from '../context';
import type { HttpReply } from '../reply';

/** The options of a route declared without any. */
export type NoOptions = Record<never, never>;

/** The schemas of a route's parts; each is optional, a part without one is not checked. */
export interface RouteSchemas {
  /** Path parameters, coerced from their strings (`:id` to an integer when the schema says so). */
  readonly params?: Schema;
  /** The query string, coerced from strings; a single value becomes a one-item array where an array is declared. */
  readonly query?: Schema;
  /** Request headers (names in lower case), coerced from strings; other headers always pass. */
  readonly headers?: Schema;
  /** The parsed JSON body, taken as it is. */
  readonly body?: Schema;
  /** The answer's body by status: checked in development and test (`validation.responses`), and documented. */
  readonly responses?: { readonly [status: number]: Schema };
}

/** How a route appears in the OpenAPI document beside its schemas. */
export interface RouteDocumentation {
  /** Unique in the document; `<owner>.<method name>` by default. */
  readonly operationId?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly deprecated?: boolean;
  /** Security requirements: names of the server's `openapi.security_schemes` with their scopes. */
  readonly security?: readonly { readonly [scheme: string]: readonly string[] }[];
}

export interface HttpRouteOptions extends RouteSchemas, RouteDocumentation {
  /**
   * Name of the HttpServerResource serving the route; required when the service has several
   * servers, optional when it has exactly one.
   */
  readonly server?: string;
  /** What a body property its schema does not name does; the server's `validation.unknown_properties` by default. */
  readonly unknownProperties?: UnknownProperties;
}

// A path parameter's name: what path-to-regexp reads after `:` or `*`.
type NameChar =
  | 'a'
  | 'b'
  | 'c'
  | 'd'
  | 'e'
  | 'f'
  | 'g'
  | 'h'
  | 'i'
  | 'j'
  | 'k'
  | 'l'
  | 'm'
  | 'n'
  | 'o'
  | 'p'
  | 'q'
  | 'r'
  | 's'
  | 't'
  | 'u'
  | 'v'
  | 'w'
  | 'x'
  | 'y'
  | 'z'
  | 'A'
  | 'B'
  | 'C'
  | 'D'
  | 'E'
  | 'F'
  | 'G'
  | 'H'
  | 'I'
  | 'J'
  | 'K'
  | 'L'
  | 'M'
  | 'N'
  | 'O'
  | 'P'
  | 'Q'
  | 'R'
  | 'S'
  | 'T'
  | 'U'
  | 'V'
  | 'W'
  | 'X'
  | 'Y'
  | 'Z'
  | '0'
  | '1'
  | '2'
  | '3'
  | '4'
  | '5'
  | '6'
  | '7'
  | '8'
  | '9'
  | '_'
  | '$';

type TakeName<S extends string, Name extends string = ''> = S extends `${infer C}${infer Rest}`
  ? C extends NameChar
    ? TakeName<Rest, `${Name}${C}`>
    : [Name, S]
  : [Name, ''];

/** The names of the parameters of a path template: `'/items/:sku/{:variant}'` gives `'sku' | 'variant'`. */
type ParamNames<P extends string> = P extends `${string}${':' | '*'}${infer Rest}`
  ? TakeName<Rest> extends [infer Name extends string, infer After extends string]
    ? (Name extends '' ? never : Name) | ParamNames<After>
    : never
  : never;

/** Parameters inside `{…}` are optional in path-to-regexp 8. */
type OptionalNames<P extends string> = P extends `${string}{${infer Inside}}${infer Rest}`
  ? ParamNames<Inside> | OptionalNames<Rest>
  : never;

/** `ctx.params` of a path template: each `:name` a string, those in `{…}` possibly absent. */
export type PathParams<P extends string> = string extends P
  ? Record<string, string>
  : { [K in Exclude<ParamNames<P>, OptionalNames<P>>]: string } & { [K in OptionalNames<P>]?: string };

type PartOf<O, K extends keyof RouteSchemas, Default> = O extends { readonly [P in K]: infer S }
  ? Infer<S>
  : Default;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ParamsOf<P extends string, O> = O extends { readonly params: infer S }
  ? Infer<S>
  : Simplify<PathParams<P>>;

/**
 * The context of a route whose template is `Path` and whose schemas are `O`: `ctx.params` from
 * the template (or its `params` schema), `ctx.query`, `ctx.headers` and `ctx.request.body` from
 * the schemas, each as validated. Without either it is koa's router context.
 */
export type HttpContext<
  Path extends string = string,
  O extends RouteSchemas = NoOptions,
> = string extends Path
  ? [keyof O & keyof RouteSchemas] extends [never]
    ? RouterContext<HttpState>
    : TypedContext<Path, O>
  : TypedContext<Path, O>;

type Base = RouterContext<HttpState>;

/** koa's context (router's fields included) without its open index signature, so a misspelled field fails. */
export type TypedContext<Path extends string, O> = Omit<
  ExtendableContext,
  'request' | 'query' | 'headers' | 'header'
> &
  Pick<Base, 'router' | 'routerPath' | 'routerName' | 'matched' | 'captures' | '_matchedRoute'> & {
    state: HttpState & { body: PartOf<O, 'body', unknown> };
    params: ParamsOf<Path, O>;
    query: PartOf<O, 'query', ParsedUrlQuery>;
    headers: PartOf<O, 'headers', IncomingHttpHeaders>;
    header: PartOf<O, 'headers', IncomingHttpHeaders>;
    request: Omit<Request, 'query' | 'headers' | 'header'> & {
      params: ParamsOf<Path, O>;
      query: PartOf<O, 'query', ParsedUrlQuery>;
      headers: PartOf<O, 'headers', IncomingHttpHeaders>;
      header: PartOf<O, 'headers', IncomingHttpHeaders>;
      body: PartOf<O, 'body', unknown>;
    };
    body: unknown;
    response: { body: unknown };
  };

type Awaitable<T> = T | PromiseLike<T>;

type ResponsesOf<O> = O extends { readonly responses: infer R } ? R : never;

/**
 * What a route's handler may return: with `responses` declared, the 200's body itself or
 * `reply(status, body)` with a declared status and its body; without, anything.
 */
export type RouteResult<O> = [ResponsesOf<O>] extends [never]
  ? unknown
  : | (ResponsesOf<O> extends { readonly 200: infer S } ? Infer<S> : never)
    | { [K in keyof ResponsesOf<O> & number]: HttpReply<Infer<ResponsesOf<O>[K]>, K> }[keyof ResponsesOf<O> &
        number]
    | (ResponsesOf<O> extends { readonly 204: unknown } ? void | undefined : never);

/** A handler of a route of template `Path` and options `O`, as `@http` accepts it. */
export type RouteHandler<Path extends string, O extends RouteSchemas> = (
  ctx: HttpContext<Path, O>,
) => Awaitable<RouteResult<O>>;

/** The context of a route made with `defineRoute`: `create(ctx: RouteContext<typeof createOrder>)`. */
export type RouteContext<R> = R extends {
  readonly path: infer P extends string;
  readonly options: infer O extends RouteSchemas;
}
  ? HttpContext<P, O>
  : never;
