import { STATUS_CODES } from 'node:http';
import { toJsonSchema, type Schema } from '../../../contracts/schema';
import type { HttpMethod } from '../decorators';
import type { HttpRouteOptions } from './types';

/** What the document says of the API beside its routes, from `@openApi` on the microservice. */
export interface OpenApiInfo {
  /** The service's name by default. */
  readonly title?: string;
  /** The service's package.json version by default. */
  readonly version?: string;
  readonly description?: string;
  /** OpenAPI security schemes by name: `{ bearer: { type: 'http', scheme: 'bearer' } }`. */
  readonly securitySchemes?: { readonly [name: string]: Readonly<Record<string, unknown>> };
  /** Requirements applying to every operation that does not state its own. */
  readonly security?: readonly { readonly [scheme: string]: readonly string[] }[];
  /** Which HTTP server this describes, when the service has several; every server by default. */
  readonly server?: string;
}

/** One route as the document sees it. */
export interface DocumentedRoute {
  readonly method: HttpMethod;
  readonly path: string;
  /** `<resource>.<method>`: the operation id unless the route names one. */
  readonly owner: string;
  readonly options: HttpRouteOptions;
}

export type OpenApiDocument = Record<string, unknown> & { openapi: '3.1.0'; paths: Record<string, unknown> };

const openApiInfos = new WeakMap<object, OpenApiInfo[]>();

/** Describes the API in the OpenAPI document; on the microservice or any resource class. */
export function openApi(info: OpenApiInfo) {
  return (target: abstract new (...args: never[]) => unknown): void => {
    openApiInfos.set(target, [...(openApiInfos.get(target) ?? []), info]);
  };
}

/**
 * What the `@openApi` declarations of `classes` (and the classes they extend) say of `server`'s
 * document, later ones winning; security schemes are merged.
 */
export function openApiInfoFor(classes: readonly unknown[], server: string): OpenApiInfo {
  const merged: { -readonly [K in keyof OpenApiInfo]: OpenApiInfo[K] } = {};
  const schemes: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const cls of classes) {
    const chain: OpenApiInfo[] = [];
    for (
      let current = cls;
      typeof current === 'function';
      current = Object.getPrototypeOf(current) as unknown
    ) {
      chain.unshift(...(openApiInfos.get(current) ?? []));
    }
    for (const info of chain) {
      if (info.server !== undefined && info.server !== server) continue;
      Object.assign(merged, info);
      Object.assign(schemes, info.securitySchemes);
    }
  }
  delete merged.server;
  return Object.keys(schemes).length > 0 ? { ...merged, securitySchemes: schemes } : merged;
}

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['in', 'pointer', 'detail'],
        properties: {
          in: { enum: ['params', 'query', 'headers', 'body'] },
          pointer: { type: 'string' },
          detail: { type: 'string' },
        },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document of `routes`: one operation per route, path parameters as `{name}`,
 * query and header schemas as parameters, body and response schemas in `components.schemas`
 * (a schema used by several operations is one component), and the 400 problem document of every
 * route that validates its request.
 */
export function openApiDocument(
  service: { name: string; version?: string },
  routes: readonly DocumentedRoute[],
  info: OpenApiInfo = {},
): OpenApiDocument {
  const components = new Components();
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    for (const path of openApiPaths(route.path)) {
      const operation = describeOperation(route, path, components, operationIds);
      (paths[path.template] ??= {})[route.method.toLowerCase()] = operation;
    }
  }
  const schemes = info.securitySchemes ?? {};
  return {
    openapi: '3.1.0',
    info: {
      title: info.title ?? service.name,
      version: info.version ?? service.version ?? '0.0.0',
      ...(info.description !== undefined && { description: info.description }),
    },
    ...(info.security !== undefined && { security: info.security }),
    paths,
    components: {
      schemas: components.schemas,
      ...(Object.keys(schemes).length > 0 && { securitySchemes: schemes }),
    },
  };
}

interface OpenApiPath {
  template: string;
  params: string[];
}

/** koa's template in OpenAPI's terms; a `{…}` group (optional) gives the path without and with it. */
function openApiPaths(template: string): OpenApiPath[] {
  const group = /\{([^{}]*)\}/.exec(template);
  if (group !== null) {
    const before = template.slice(0, group.index);
    const after = template.slice(group.index + group[0].length);
    return [...openApiPaths(`${before}${after}`), ...openApiPaths(`${before}${group[1]}${after}`)];
  }
  const params: string[] = [];
  const converted = template.replace(/[:*]([A-Za-z0-9_$]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return [{ template: converted || '/', params }];
}

function describeOperation(
  route: DocumentedRoute,
  path: OpenApiPath,
  components: Components,
  operationIds: Set<string>,
): Record<string, unknown> {
  const { options } = route;
  const base = options.operationId ?? route.owner.replace(/[^A-Za-z0-9_.-]/g, '_');
  let operationId = base;
  for (let n = 2; operationIds.has(operationId); n++) operationId = `${base}_${n}`;
  operationIds.add(operationId);
  const parameters = [
    ...pathParameters(path.params, options.params),
    ...objectParameters('query', options.query),
    ...objectParameters('header', options.headers),
  ];
  const validates = [options.params, options.query, options.headers, options.body].some(
    (part) => part !== undefined,
  );
  const responses: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(options.responses ?? {})) {
    responses[status] = {
      description: STATUS_CODES[Number(status)] ?? `status ${status}`,
      ...(Number(status) !== 204 && {
        content: { 'application/json': { schema: components.ref(schema, `${operationId}_${status}`) } },
      }),
    };
  }
  if (validates && responses['400'] === undefined) {
    responses['400'] = {
      description: 'The request does not match the route: every problem with its JSON pointer (RFC 9457)',
      content: {
        'application/problem+json': { schema: components.named('ValidationProblem', PROBLEM_SCHEMA) },
      },
    };
  }
  if (Object.keys(responses).length === 0) responses.default = { description: 'The answer (not described)' };
  return {
    operationId,
    ...(options.summary !== undefined && { summary: options.summary }),
    ...(options.description !== undefined && { description: options.description }),
    ...(options.tags !== undefined && { tags: options.tags }),
    ...(options.deprecated === true && { deprecated: true }),
    ...(options.security !== undefined && { security: options.security }),
    ...(parameters.length > 0 && { parameters }),
    ...(options.body !== undefined && {
      requestBody: {
        required: true,
        content: { 'application/json': { schema: components.ref(options.body, `${operationId}_body`) } },
      },
    }),
    responses,
  };
}

function pathParameters(names: readonly string[], schema: Schema | undefined): Record<string, unknown>[] {
  const properties = schema === undefined ? {} : propertiesOf(toJsonSchema(schema));
  return names.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: properties[name] ?? { type: 'string' },
  }));
}

function objectParameters(where: 'query' | 'header', schema: Schema | undefined): Record<string, unknown>[] {
  if (schema === undefined) return [];
  const json = toJsonSchema(schema);
  const required = new Set(Array.isArray(json.required) ? (json.required as string[]) : []);
  return Object.entries(propertiesOf(json)).map(([name, property]) => ({
    name,
    in: where,
    ...(required.has(name) && { required: true }),
    schema: property,
  }));
}

function propertiesOf(json: Record<string, unknown>): Record<string, unknown> {
  const properties = json.properties;
  return typeof properties === 'object' && properties !== null ? (properties as Record<string, unknown>) : {};
}

/** `components.schemas`, each distinct schema once, named by its `$id` or `title` or its first use. */
class Components {
  readonly schemas: Record<string, unknown> = {};
  private readonly byText = new Map<string, string>();

  ref(schema: Schema, fallbackName: string): { $ref: string } {
    const { $id, ...json } = toJsonSchema(schema);
    const title = typeof json.title === 'string' ? json.title : undefined;
    const wanted = (typeof $id === 'string' ? $id : title) ?? fallbackName;
    return this.named(wanted, json);
  }

  named(wanted: string, json: Record<string, unknown>): { $ref: string } {
    const text = JSON.stringify(json);
    let name = this.byText.get(text);
    if (name === undefined) {
      const base = wanted.replace(/[^A-Za-z0-9_.-]/g, '_');
      name = base;
      for (let n = 2; name in this.schemas; n++) name = `${base}${n}`;
      this.schemas[name] = json;
      this.byText.set(text, name);
    }
    return { $ref: `#/components/schemas/${name}` };
  }
}
