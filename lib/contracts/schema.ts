/**
 * What Keel takes as a schema: a JSON Schema object (TypeBox's `Type.*` builds those, with their
 * static type beside them), or any library's schema that implements Standard JSON Schema (zod 4.2+,
 * ArkType, Valibot through its adapter), which Keel turns into JSON Schema once, at start.
 * JSON Schema is what ajv validates and what the OpenAPI and AsyncAPI documents carry, so the
 * check at run time and the published contract are one text.
 */
export type Schema = JsonSchemaObject | StandardJsonSchema;

/** A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) as an object. */
export interface JsonSchemaObject {
  readonly [keyword: string]: unknown;
}

/** The Standard JSON Schema interface (`~standard.jsonSchema`), as zod 4.2+ and others implement it. */
export interface StandardJsonSchema<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
    readonly jsonSchema: {
      readonly input: (options: { readonly target: string }) => Record<string, unknown>;
      readonly output: (options: { readonly target: string }) => Record<string, unknown>;
    };
  };
}

/**
 * The type a value has once it passed `S`: TypeBox's static type, a Standard schema's input type
 * (what arrives on the wire, the side ajv checks), else `unknown` for a plain JSON Schema.
 */
export type Infer<S> = S extends { readonly '~standard': { readonly types?: infer T } }
  ? NonNullable<T> extends { readonly input: infer I }
    ? I
    : unknown
  : S extends { readonly static: infer T }
    ? T
    : unknown;

const JSON_SCHEMA_TARGET = 'draft-2020-12';

function isStandard(schema: Schema): schema is StandardJsonSchema {
  const standard = (schema as { '~standard'?: { jsonSchema?: unknown } })['~standard'];
  return typeof standard === 'object' && standard !== null && typeof standard.jsonSchema === 'object';
}

/**
 * The JSON Schema of `schema`, as a plain object (TypeBox's symbol keys and prototypes left behind):
 * the same object for the same schema, so documents and validators share it.
 */
/** What a send accepts with `schema` `S`: anything without one (`never`), else the schema's type. */
export type MessageOf<S> = [S] extends [never] ? unknown : Infer<S>;

export function toJsonSchema(schema: Schema): Record<string, unknown> {
  let converted = jsonSchemas.get(schema);
  if (converted === undefined) {
    const source = isStandard(schema)
      ? schema['~standard'].jsonSchema.input({ target: JSON_SCHEMA_TARGET })
      : schema;
    converted = plain(source) as Record<string, unknown>;
    // The dialect is the document's (OpenAPI 3.1, AsyncAPI 3) or the validator's, not each schema's.
    delete converted.$schema;
    jsonSchemas.set(schema, converted);
  }
  return converted;
}

const jsonSchemas = new WeakMap<object, Record<string, unknown>>();

function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) copy[key] = plain(field);
  }
  return copy;
}
