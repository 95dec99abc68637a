import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import type Ajv2020 from 'ajv/dist/2020';
import { ContractError, type Problem } from './errors';
import { toJsonSchema, type Schema } from './schema';

/**
 * How a part is checked. Strings from a URL or a header are coerced to what the schema says
 * (`'5'` to 5, `'true'` to true; `query` also a single value to a one-item array); a JSON body or
 * a decoded message is taken as it is. `unknown` says what a property the schema does not name
 * does: `strip` removes it, `reject` makes it a problem, `allow` keeps it.
 */
export interface CheckMode {
  coerce: 'none' | 'scalars' | 'arrays';
  unknown: UnknownProperties;
}

export type UnknownProperties = 'strip' | 'reject' | 'allow';

/** The outcome of a check: the value (coerced, stripped, defaults filled in) or every problem. */
export type CheckResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      problems: Problem[];
      /** False when only the first problem was looked for (`listAll: false`). */
      complete: boolean;
    };

/** `listAll: false` reports the first problem only, for values too large to list every problem of. */
export type Check = (value: unknown, listAll?: boolean) => CheckResult;

/**
 * Past this many problems a value has, only this many are listed: ajv gathers every error of a
 * value before answering, so an array of a million bad items would cost memory by the million.
 */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * Compiles schemas into checks with ajv (JSON Schema 2020-12, formats from ajv-formats), each
 * compiled once; ajv is loaded on the first compile, so a service without schemas never loads it.
 * One per owner (an HTTP server, an AMQP resource): nothing is shared across a process.
 */
export class SchemaCompiler {
  private readonly instances = new Map<string, Ajv2020>();

  /** A check of `schema` in `mode`; throws INVALID_SCHEMA naming `where` for a schema ajv refuses. */
  compile(schema: Schema, mode: CheckMode, where: string): Check {
    const json = mode.unknown === 'reject' ? closeObjects(toJsonSchema(schema)) : toJsonSchema(schema);
    let first: ValidateFunction;
    let every: ValidateFunction;
    try {
      // ajv keeps every `$id` it compiles: a schema with one, used alone and inside another (or
      // twice in two forms), would be "already" registered, so such a schema gets ajv instances of its own.
      const own = JSON.stringify(json).includes('"$id"');
      first = this.ajv(mode, false, own).compile(json);
      every = this.ajv(mode, true, own).compile(json);
    } catch (error) {
      throw new ContractError(
        'CONTRACT_INVALID_SCHEMA',
        `${where}: the schema is not valid JSON Schema: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return (value, listAll = true) => {
      try {
        // The fast check stops at the first problem; only a failing value pays for the full list.
        if (first(value)) return { ok: true, value };
        if (listAll && !every(value))
          return { ok: false, problems: problemsOf(every.errors ?? []), complete: true };
        return { ok: false, problems: problemsOf(first.errors ?? []), complete: false };
      } catch (error) {
        // A recursive schema over a value nested deeper than the stack: a problem of the value.
        if (error instanceof RangeError)
          return { ok: false, problems: [{ pointer: '', detail: 'is nested too deeply' }], complete: true };
        throw error;
      }
    };
  }

  private ajv(mode: CheckMode, allErrors: boolean, own: boolean): Ajv2020 {
    const key = `${mode.coerce}/${mode.unknown}/${allErrors}`;
    let ajv = own ? undefined : this.instances.get(key);
    if (ajv === undefined) {
      const { Ajv, addFormats } = loadAjv();
      const options: Options = {
        allErrors,
        strict: false,
        useDefaults: true,
        coerceTypes: mode.coerce === 'none' ? false : mode.coerce === 'arrays' ? 'array' : true,
        removeAdditional: mode.unknown === 'strip' ? 'all' : false,
      };
      ajv = new Ajv(options);
      addFormats(ajv);
      if (!own) this.instances.set(key, ajv);
    }
    return ajv;
  }
}

function problemsOf(errors: readonly ErrorObject[]): Problem[] {
  const problems: Problem[] = [];
  for (const error of errors) {
    if (problems.length === MAX_LISTED_PROBLEMS) break;
    // Combinators repeat what their branches said; the branches' own problems are listed.
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const params = error.params as { missingProperty?: string; additionalProperty?: string };
    const property = params.missingProperty ?? params.additionalProperty;
    problems.push({
      pointer:
        property === undefined ? error.instancePath : `${error.instancePath}/${escapePointer(property)}`,
      detail: error.keyword === 'additionalProperties' ? 'is not allowed' : (error.message ?? error.keyword),
    });
  }
  return problems;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The schema with `additionalProperties: false` on every object schema that does not say otherwise. */
function closeObjects(schema: unknown): Record<string, unknown> {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node))
      copy[key] = key === 'const' || key === 'enum' || key === 'default' ? value : walk(value);
    if (
      'properties' in copy &&
      !('additionalProperties' in copy) &&
      !('patternProperties' in copy) &&
      !('unevaluatedProperties' in copy)
    ) {
      copy.additionalProperties = false;
    }
    return copy;
  };
  return walk(schema) as Record<string, unknown>;
}

interface AjvModules {
  Ajv: typeof Ajv2020;
  addFormats: (ajv: Ajv2020) => unknown;
}

let modules: AjvModules | undefined;

/** ajv and ajv-formats, required on first use. */
function loadAjv(): AjvModules {
  if (modules !== undefined) return modules;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ajv = require('ajv/dist/2020') as { default: typeof Ajv2020 };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const formats = require('ajv-formats') as { default: AjvModules['addFormats'] };
    modules = { Ajv: ajv.default, addFormats: formats.default };
  } catch (error) {
    throw new ContractError(
      'CONTRACT_MISSING_DEPENDENCY',
      `schemas are validated with ajv and ajv-formats, which cannot be loaded: ${(error as Error).message} (npm install ajv ajv-formats)`,
      { cause: error },
    );
  }
  return modules;
}
