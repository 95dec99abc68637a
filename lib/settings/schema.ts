import convict from 'convict';
import { SettingsError } from './errors';
import { isKeelFormat, KEEL_FORMATS } from './formats';
import { cut } from './redact';
import { emptyTree, isPlainObject, type SettingsTree } from './tree';
import type { SettingsSchema } from './types';

/** One setting in a convict schema: a node with a `default`. */
export interface SettingsLeafSchema {
  readonly default: unknown;
  readonly format?: unknown;
  readonly nullable?: boolean;
  readonly doc?: string;
  readonly sensitive?: boolean;
  /**
   * A change applies while the service runs: the owner reads the value when it uses it, watches
   * it, or applies it in `onSettingsChange`. Without it the key is taken as read at start (a change
   * applies at the next restart); `keel settings describe` says which.
   */
  readonly live?: boolean;
}

export interface SettingsSchemaShape {
  readonly [key: string]: SettingsLeafSchema | SettingsSchemaShape;
}

type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? Widen<E>[]
        : T extends object
          ? { -readonly [K in keyof T]: Widen<T[K]> }
          : T;

type NumericFormat = 'int' | 'integer' | 'nat' | 'port' | 'duration' | 'duration_seconds' | NumberConstructor;
type TextFormat = 'url' | 'email' | 'ipaddress' | 'windows_named_pipe' | StringConstructor;

type ValueOfFormat<F, D> = F extends readonly (infer E)[]
  ? E
  : F extends NumericFormat
    ? number
    : F extends TextFormat
      ? string
      : F extends 'port_or_windows_named_pipe'
        ? number | string
        : F extends BooleanConstructor
          ? boolean
          : F extends RegExpConstructor
            ? RegExp
            : F extends ArrayConstructor
              ? D extends readonly unknown[]
                ? Widen<D>
                : unknown[]
              : F extends ObjectConstructor
                ? D extends SettingsTree
                  ? Widen<D>
                  : Record<string, unknown>
                : F extends (value: unknown) => asserts value is infer T
                  ? T
                  : DefaultType<D>;

type DefaultType<D> = [D] extends [null] ? unknown : Widen<Exclude<D, null>>;

type LeafValue<L> = L extends { readonly default: infer D }
  ? (L extends { readonly format: infer F } ? ValueOfFormat<F, D> : DefaultType<D>) | NullIfNullable<L>
  : never;

type NullIfNullable<L> = L extends { readonly nullable: true } ? null : never;

/** The value type of a scope, inferred from its convict schema. */
export type SettingsOf<S> = {
  -readonly [K in keyof S]: S[K] extends { readonly default: unknown } ? LeafValue<S[K]> : SettingsOf<S[K]>;
};

/**
 * Declares a resource's convict schema keeping its literal types, so `SettingsOf<typeof schema>`
 * knows that `format: ['a', 'b']` means `'a' | 'b'` and `format: 'port'` means `number`.
 */
export function defineSettings<const S extends SettingsSchemaShape>(schema: S): S {
  return schema;
}

/** What the provider knows about one leaf of a schema, precomputed once per scope. */
export interface CompiledLeaf {
  /** Path relative to the scope, as spelled in the schema. */
  readonly path: readonly string[];
  readonly defaultValue: unknown;
  /** Human description of the accepted values, for error messages. */
  readonly expected: string;
  /** `sensitive: true` in the schema: its value is never printed. */
  readonly sensitive: boolean;
  /** `live: true` in the schema: a change applies without a restart. */
  readonly live: boolean;
  readonly doc?: string;
  readonly nullable: boolean;
  /** Undefined when `value` is accepted, otherwise why not. */
  check(value: unknown): 'missing' | 'invalid' | undefined;
  /** What a custom format said about a value it refused, when it said something. */
  reason(value: unknown): string | undefined;
  /** Turns an environment string into the type the format wants. */
  coerce(raw: string): unknown;
}

/** An object of the schema (a node with keys of its own), relative to the scope. */
export interface CompiledNode {
  readonly path: readonly string[];
  readonly keys: readonly string[];
}

export interface CompiledSchema {
  readonly leaves: readonly CompiledLeaf[];
  /** Every object of the schema, the scope itself (path []) included, parents before children. */
  readonly nodes: readonly CompiledNode[];
  readonly defaults: SettingsTree;
  /** The leaf at a path given in any letter case (environment variables are upper case). */
  leafMatching(path: readonly string[]): CompiledLeaf | undefined;
  /** Whether `path` is a leaf or an inner node of the schema; undefined for a key it does not declare. */
  kindOf(path: readonly string[]): 'leaf' | 'node' | undefined;
}

const INTEGER_NAMES = new Set(['int', 'integer', 'nat', 'port', 'duration']);
const DECIMAL_NAMES = new Set(['number', 'duration_seconds']);
const CONSTRUCTOR_NAMES = new Map<unknown, string>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
  [Array, 'array'],
  [Object, 'object'],
  [RegExp, 'regexp'],
]);

/**
 * Schemas compiled so far, by identity: an app compiles the same built-in schemas (lifecycle,
 * logging, report server...) as every app before it in the process, and a compiled schema holds
 * nothing of the scope it is used at.
 */
const compiled = new WeakMap<SettingsSchema, CompiledSchema>();

export function compileSchema(schema: SettingsSchema, scopePath: string): CompiledSchema {
  let result = compiled.get(schema);
  if (result === undefined) {
    try {
      result = compileNew(schema as unknown as SettingsSchemaShape);
    } catch (error) {
      if (!(error instanceof SchemaShapeError)) throw error;
      throw new SettingsError(
        'SETTINGS_SCHEMA',
        `Invalid settings schema for ${scopePath}: ${error.message}`,
      );
    }
    compiled.set(schema, result);
  }
  return result;
}

function compileNew(schema: SettingsSchemaShape): CompiledSchema {
  const leaves: CompiledLeaf[] = [];
  const nodes: CompiledNode[] = [];
  const defaults = collectLeaves(schema, [], leaves, nodes, new Set());
  const byLowerPath = new Map(leaves.map((leaf) => [leaf.path.join('.').toLowerCase(), leaf]));
  const kinds = new Map<string, 'leaf' | 'node'>();
  for (const leaf of leaves) {
    for (let length = 1; length < leaf.path.length; length++)
      kinds.set(leaf.path.slice(0, length).join('.'), 'node');
    kinds.set(leaf.path.join('.'), 'leaf');
  }
  return {
    leaves,
    nodes,
    defaults,
    leafMatching: (path) => byLowerPath.get(path.join('.').toLowerCase()),
    kindOf: (path) => kinds.get(path.join('.')),
  };
}

/** A schema convict would refuse, with convict's own message (the caller adds the scope). */
class SchemaShapeError extends Error {}

/**
 * The checks convict's constructor makes on a schema (reserved keys, a reused `arg`, a `format`
 * that is neither a function, a list, a constructor nor a known name), made here so that no convict
 * instance is built per scope: building one parses the process's argv and deep-copies the schema.
 */
function checkKey(key: string, child: unknown, fullName: string): void {
  if (key === '_cvtProperties')
    throw new SchemaShapeError(`'${fullName}': '_cvtProperties' is reserved word of convict.`);
  const hasPrototype = isPlainObject(child) && Object.prototype.hasOwnProperty.call(child, 'prototype');
  if ((key === 'constructor' && hasPrototype) || key === '__proto__')
    throw new SchemaShapeError(`'${fullName}': '${key}' is a reserved schema key`);
}

const CONVICT_BUILT_IN_NAMES = new Set(['Object', 'Array', 'String', 'Number', 'Boolean', 'RegExp']);
/** convict's own named formats, which Keel checks itself; any other name is looked up in convict. */
const CONVICT_CORE_FORMATS = new Set(['*', 'int', 'integer', 'nat', 'port']);

function checkLeaf(schema: SettingsLeafSchema, fullName: string, args: Set<unknown>): void {
  const { format } = schema as { format?: unknown };
  const arg = (schema as { arg?: unknown }).arg;
  if (arg) {
    if (args.has(arg))
      throw new SchemaShapeError(`'${fullName}' reuses a command-line argument: ${String(arg)}`);
    args.add(arg);
  }
  if (format === undefined || format === null || format === '' || format === false || format === 0) return;
  if (typeof format === 'function' || Array.isArray(format)) return;
  if (typeof format !== 'string')
    throw new SchemaShapeError(`'${fullName}': "format" must be a function or a known format type.`);
  if (!CONVICT_BUILT_IN_NAMES.has(format) && !CONVICT_CORE_FORMATS.has(format) && !isKeelFormat(format))
    convictLeaf(schema, fullName);
}

function isLeafSchema(node: unknown): node is SettingsLeafSchema {
  return !isPlainObject(node) || 'default' in node || Object.keys(node).length === 0;
}

function collectLeaves(
  node: SettingsSchemaShape,
  prefix: string[],
  into: CompiledLeaf[],
  nodes: CompiledNode[],
  args: Set<unknown>,
): SettingsTree {
  nodes.push({ path: prefix, keys: Object.keys(node) });
  const defaults = emptyTree();
  for (const [key, child] of Object.entries(node)) {
    const path = [...prefix, key];
    const fullName = path.join('.');
    checkKey(key, child, fullName);
    if (isLeafSchema(child)) {
      // convict's shorthand: a bare value is its own default.
      const leafSchema = isPlainObject(child) ? child : { default: child };
      checkLeaf(leafSchema, fullName, args);
      const leaf = compileLeaf(path, leafSchema);
      into.push(leaf);
      if (leaf.defaultValue !== undefined) defaults[key] = structuredClone(leaf.defaultValue);
    } else {
      defaults[key] = collectLeaves(child, path, into, nodes, args);
    }
  }
  return defaults;
}

function compileLeaf(path: string[], schema: SettingsLeafSchema): CompiledLeaf {
  const format = schema.format ?? inferredFormat(schema.default);
  const refusal = checkerFor(format, schema, path);
  const expected = describeFormat(format);
  const formatName = typeof format === 'string' ? format : (CONSTRUCTOR_NAMES.get(format) ?? '');
  const sensitive = schema.sensitive === true;
  return {
    path,
    defaultValue: schema.default,
    expected,
    sensitive,
    live: schema.live === true,
    doc: schema.doc,
    nullable: schema.nullable === true,
    check(value) {
      if (value === null && schema.nullable === true) return undefined;
      // convict leaves an optional setting (default undefined) alone while nothing sets it.
      if (value === undefined && schema.default === undefined) return undefined;
      if (value === undefined || value === null) return 'missing';
      return refusal(value) === undefined ? undefined : 'invalid';
    },
    reason(value) {
      const said = value === undefined || value === null ? undefined : refusal(value);
      // A custom format may quote the value; a sensitive one is never quoted.
      return said === undefined || said === '' || sensitive ? undefined : cut(said);
    },
    coerce: (raw) => coerceString(raw, formatName),
  };
}

function inferredFormat(defaultValue: unknown): unknown {
  if (defaultValue === null || defaultValue === undefined) return '*';
  if (Array.isArray(defaultValue)) return Array;
  const byType: Record<string, unknown> = {
    string: String,
    number: Number,
    boolean: Boolean,
    object: Object,
  };
  return byType[typeof defaultValue] ?? '*';
}

function isPort(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

/** The checker of a format: undefined when a value is accepted, otherwise what the format said ('' for nothing). */
type Refusal = (value: unknown) => string | undefined;

function accepting(test: (value: unknown) => boolean): Refusal {
  return (value) => (test(value) ? undefined : '');
}

function checkerFor(format: unknown, schema: SettingsLeafSchema, path: readonly string[]): Refusal {
  if (Array.isArray(format)) return accepting((value) => format.includes(value));
  if (isKeelFormat(format)) return throwing(KEEL_FORMATS[format].validate);
  const constructorName =
    CONSTRUCTOR_NAMES.get(format) ?? (typeof format === 'string' ? format.toLowerCase() : '');
  switch (constructorName) {
    case '*':
      return () => undefined;
    case 'string':
      return accepting((value) => typeof value === 'string');
    case 'number':
      return accepting((value) => typeof value === 'number' && !Number.isNaN(value));
    case 'boolean':
      return accepting((value) => typeof value === 'boolean');
    case 'array':
      return accepting(Array.isArray);
    case 'object':
      return accepting(isPlainObject);
    case 'regexp':
      return accepting((value) => value instanceof RegExp);
    case 'int':
    case 'integer':
      return accepting(Number.isInteger);
    case 'nat':
      return accepting((value) => Number.isInteger(value) && (value as number) >= 0);
    case 'port':
      return accepting(isPort);
    default:
      return typeof format === 'function' && !CONSTRUCTOR_NAMES.has(format)
        ? throwing(format as (value: unknown) => void)
        : convictChecker(schema, path.join('.'));
  }
}

function throwing(validate: (value: unknown) => void): Refusal {
  return (value) => {
    try {
      validate(value);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
}

/**
 * Formats registered with `convict.addFormat` are checked by convict itself; a name convict does
 * not know either is a malformed schema. Its argv and environment are not read: only `validate` is used.
 */
function convictChecker(schema: SettingsLeafSchema, fullName: string): Refusal {
  const single = convictLeaf(schema, fullName);
  return (value) => {
    try {
      single.load({ value }).validate({ allowed: 'strict' });
      return undefined;
    } catch (error) {
      return (error as Error).message.replace(/^value: /, '');
    }
  };
}

/** A convict instance of one leaf, named `value`; throws convict's message when the schema is malformed. */
function convictLeaf(schema: SettingsLeafSchema, fullName: string): convict.Config<SettingsTree> {
  const leaf = { ...schema, default: null, nullable: true, env: undefined, arg: undefined };
  try {
    return convict({ value: leaf } as convict.Schema<SettingsTree>, { args: [], env: {} });
  } catch (error) {
    throw new SchemaShapeError((error as Error).message.replace(/^'value'/, `'${fullName}'`));
  }
}

function describeFormat(format: unknown): string {
  if (Array.isArray(format)) return `one of ${JSON.stringify(format)}`;
  const constructorName = CONSTRUCTOR_NAMES.get(format);
  if (constructorName !== undefined) return constructorName;
  if (format === 'port') return 'port (integer 0-65535)';
  if (format === 'nat') return 'nat (integer >= 0)';
  if (isKeelFormat(format)) return KEEL_FORMATS[format].expected;
  if (typeof format === 'string') return format;
  // `format: (value) => ...` is named after its key, `format`: that names nothing.
  if (typeof format === 'function')
    return format.name === '' || format.name === 'format' ? 'a value its format accepts' : `${format.name}`;
  return 'any value';
}

function coerceString(raw: string, formatName: string): unknown {
  // Only plain decimals: Number() would also read `0x6D9C`, `2.806e4` or `Infinity`. Anything else
  // stays the string it was, and is reported as given.
  if (INTEGER_NAMES.has(formatName)) return /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (DECIMAL_NAMES.has(formatName)) return /^-?(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : raw;
  if (formatName === 'port_or_windows_named_pipe') return /^\d+$/.test(raw) ? Number(raw) : raw;
  if (formatName === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (formatName === 'string') return raw;
  if (formatName === 'array' && !raw.trim().startsWith('[')) return raw.split(',');
  return parseJsonOr(raw);
}

/** A JSON literal when `raw` is one (`8080`, `true`, `["a"]`), otherwise the string itself. */
export function parseJsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
