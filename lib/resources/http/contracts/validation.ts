import type { Problem } from '../../../contracts/errors';
import { describeProblems } from '../../../contracts/message';
import { KeelError } from '../../../errors/keel-error';
import {
  PROBLEM_CONTENT_TYPE,
  validationProblem,
  type RequestPart,
  type RequestProblem,
} from '../../../contracts/problem';
import type { Check, CheckMode, SchemaCompiler, UnknownProperties } from '../../../contracts/validator';
import type { HttpContext } from '../context';
import type { HttpRouteOptions } from './types';

/**
 * A body larger than this (by its Content-Length; a chunked body counts as larger) that fails its
 * schema gets its first problem only: listing every problem of a 10 MB array of bad items would
 * hold an error object per item.
 */
export const LIST_ALL_PROBLEMS_MAX_BYTES = 1024 * 1024;

export interface ValidationDefaults {
  unknownProperties: UnknownProperties;
  /** Whether answers are checked against `responses`. */
  responses: boolean;
}

/** The checks of one route, compiled once when the route is added. */
export interface RouteChecks {
  /** Checks and replaces the parts that have a schema; answers 400 and returns false when any fails. */
  request(ctx: HttpContext): boolean;
  /** Throws a ResponseContractError when the answer does not match the schema of its status. */
  response?(ctx: HttpContext): void;
}

const PARTS: readonly RequestPart[] = ['params', 'query', 'headers', 'body'];

/** A route's answer that does not match its declared schema: a 500, logged with the route and pointers. */
export class ResponseContractError extends KeelError {
  override readonly name = 'ResponseContractError';
  readonly code = 'HTTP_RESPONSE_MISMATCH';
  readonly status = 500;
  constructor(
    message: string,
    readonly problems: readonly Problem[],
  ) {
    super(message);
  }
}

function modeOf(part: RequestPart, unknown: UnknownProperties): CheckMode {
  if (part === 'body') return { coerce: 'none', unknown };
  return { coerce: part === 'query' ? 'arrays' : 'scalars', unknown: 'allow' };
}

/** The checks of a route with schemas, or undefined for a route without any. */
export function compileRouteChecks(
  compiler: SchemaCompiler,
  route: string,
  options: HttpRouteOptions,
  defaults: ValidationDefaults,
): RouteChecks | undefined {
  const unknown = options.unknownProperties ?? defaults.unknownProperties;
  const checks: [RequestPart, Check][] = [];
  for (const part of PARTS) {
    const schema = options[part];
    if (schema !== undefined)
      checks.push([part, compiler.compile(schema, modeOf(part, unknown), `${route} ${part}`)]);
  }
  const responses = new Map<number, Check>();
  if (defaults.responses && options.responses !== undefined) {
    for (const [status, schema] of Object.entries(options.responses)) {
      responses.set(
        Number(status),
        compiler.compile(schema, { coerce: 'none', unknown: 'allow' }, `${route} response ${status}`),
      );
    }
  }
  if (checks.length === 0 && responses.size === 0) return undefined;
  return {
    request: (ctx) => {
      let problems: RequestProblem[] | undefined;
      for (const [part, check] of checks) {
        const listAll = part !== 'body' || listsAll(ctx.get('content-length'));
        const result = check(partOf(ctx, part), listAll);
        if (result.ok) {
          setPart(ctx, part, result.value);
          continue;
        }
        problems ??= [];
        for (const problem of result.problems) problems.push({ in: part, ...problem });
        if (!result.complete) {
          const detail = `further problems are not listed for a body over ${LIST_ALL_PROBLEMS_MAX_BYTES} bytes`;
          problems.push({ in: part, pointer: '', detail });
        }
      }
      if (problems === undefined) return true;
      ctx.status = 400;
      ctx.type = PROBLEM_CONTENT_TYPE;
      ctx.body = validationProblem(problems, ctx.path, ctx.state.requestId);
      return false;
    },
    ...(responses.size > 0 && {
      response: (ctx: HttpContext) => {
        const check = responses.get(ctx.status);
        const body: unknown = ctx.body;
        if (check === undefined || !isJsonValue(body)) return;
        const result = check(body);
        if (result.ok) return;
        const shown = describeProblems(result.problems);
        throw new ResponseContractError(
          `${route} answered ${ctx.status} with a body that does not match its schema: ${shown}`,
          result.problems,
        );
      },
    }),
  };
}

function listsAll(contentLength: string): boolean {
  return contentLength !== '' && Number(contentLength) <= LIST_ALL_PROBLEMS_MAX_BYTES;
}

function partOf(ctx: HttpContext, part: RequestPart): unknown {
  switch (part) {
    case 'params':
      return ctx.params;
    case 'query':
      // koa's query is parsed once per query string and shared; the check coerces a copy.
      return { ...ctx.request.query };
    case 'headers':
      return { ...ctx.request.headers };
    case 'body':
      return ctx.state.body;
  }
}

function setPart(ctx: HttpContext, part: RequestPart, value: unknown): void {
  const { request } = ctx;
  switch (part) {
    case 'params':
      ctx.params = request.params = value as Record<string, string>;
      return;
    case 'body':
      ctx.state.body = value;
      (request as { body?: unknown }).body = value;
      return;
    default:
      // koa's `query` and `headers` are getters (the query's setter rewrites the URL): the checked
      // value shadows them on this request only.
      Object.defineProperty(request, part, { value, configurable: true, writable: true });
      if (part === 'headers')
        Object.defineProperty(request, 'header', { value, configurable: true, writable: true });
  }
}

/** A body koa sends as JSON or text, not bytes or a stream. */
function isJsonValue(body: unknown): boolean {
  if (body === undefined) return false;
  if (body === null || typeof body !== 'object') return true;
  return !Buffer.isBuffer(body) && typeof (body as { pipe?: unknown }).pipe !== 'function';
}
