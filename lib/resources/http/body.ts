import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, type ZlibOptions } from 'node:zlib';
import secureJson from 'secure-json-parse';
import { HttpBodyError } from './errors';

/**
 * What fastify does by default (`onProtoPoisoning` and `onConstructorPoisoning: 'error'`): an own
 * `__proto__` key anywhere, or a `constructor` holding a `prototype`, is refused rather than handed
 * to a handler whose `Object.assign` or deep merge would then rewrite a prototype.
 */
const REFUSE_POISONING = { protoAction: 'error', constructorAction: 'error' } as const;

/**
 * Parses JSON text, refusing prototype poisoning (secure-json-parse, as fastify does). A syntax
 * error is `BODY_INVALID_JSON`, a poisoned document `BODY_PROTO_POISONING`; both answer 400.
 * The request body parser uses it, the JSON codec of messages too, and so can any code that reads
 * JSON from outside; `what` names the text in the error (`request body` by default).
 */
export function parseJson(text: string | Buffer, what = 'request body'): unknown {
  const source = typeof text === 'string' ? text : text.toString('utf8');
  try {
    // Its own pre-check skips the walk of a document that spells neither key, as most do.
    return secureJson.parse(source, null, REFUSE_POISONING) as unknown;
  } catch (error) {
    // It raises SyntaxError for both; a document JSON.parse takes was refused for its keys.
    if (!parses(source))
      throw new HttpBodyError('BODY_INVALID_JSON', 400, `${what} is not valid JSON`, { cause: error });
    throw new HttpBodyError(
      'BODY_PROTO_POISONING',
      400,
      `${what} is refused: it has a __proto__ key or a constructor.prototype (prototype poisoning)`,
      { cause: error },
    );
  }
}

function parses(source: string): boolean {
  try {
    JSON.parse(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source);
    return true;
  } catch {
    return false;
  }
}

/** Keys that name a prototype, refused in a form as in a JSON body and in settings. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The fields of a form (`application/x-www-form-urlencoded`): a field sent more than once is a list. */
export type FormFields = Record<string, string | string[]>;

/**
 * Parses a form body. Every value is kept (a repeated field gives a list, where
 * `Object.fromEntries` kept the last), and a `__proto__`, `constructor` or `prototype` field is
 * refused (`BODY_UNSAFE_KEY`, 400).
 */
export function parseForm(text: string): FormFields {
  const fields: FormFields = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (PROTOTYPE_KEYS.has(key))
      throw new HttpBodyError('BODY_UNSAFE_KEY', 400, `request body is refused: form field '${key}'`);
    const held = Object.hasOwn(fields, key) ? fields[key] : undefined;
    fields[key] = held === undefined ? value : Array.isArray(held) ? [...held, value] : [held, value];
  }
  return fields;
}

/**
 * A request body by its media type (`ctx.request.type`, parameters left out): JSON (`application/json`
 * and `+json`) through `parseJson`, forms through `parseForm`, `text/*` decoded as UTF-8, anything
 * else the bytes as they came.
 */
export function parseBody(bytes: Buffer, type: string): unknown {
  if (type === 'application/json' || type.endsWith('+json')) return parseJson(bytes);
  if (type.startsWith('text/')) return bytes.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return parseForm(bytes.toString('utf8'));
  return bytes;
}

type Inflate = (bytes: Buffer, options: ZlibOptions) => Promise<Buffer>;

const INFLATERS: ReadonlyMap<string, Inflate> = new Map([
  ['gzip', promisify<Buffer, ZlibOptions, Buffer>(gunzip)],
  ['x-gzip', promisify<Buffer, ZlibOptions, Buffer>(gunzip)],
  ['deflate', promisify<Buffer, ZlibOptions, Buffer>(inflate)],
  ['br', promisify<Buffer, ZlibOptions, Buffer>(brotliDecompress)],
]);

/** The content codings `decodeContent` undoes, as a client may name them in `Content-Encoding`. */
export const CONTENT_CODINGS: readonly string[] = ['identity', ...INFLATERS.keys()];

/**
 * The codings of a `Content-Encoding` header in the order they are to be undone (the last applied
 * first); `BODY_ENCODING_UNSUPPORTED` (415) for one Keel does not undo, before any byte is read.
 */
export function contentCodings(header: string | undefined): string[] {
  if (header === undefined) return [];
  const codings = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  const unknown = codings.find((coding) => !INFLATERS.has(coding));
  if (unknown !== undefined)
    throw new HttpBodyError(
      'BODY_ENCODING_UNSUPPORTED',
      415,
      `request body's Content-Encoding '${unknown}' is not supported (supported: ${CONTENT_CODINGS.join(', ')})`,
      { headers: { 'Accept-Encoding': CONTENT_CODINGS.join(', '), Connection: 'close' } },
    );
  return codings.reverse();
}

/**
 * The body with its content codings undone (`contentCodings`), each step stopped once it would pass
 * `maxBytes` (`BODY_TOO_LARGE`, 413): a few kilobytes of gzip cannot inflate into gigabytes.
 */
export async function decodeContent(
  bytes: Buffer,
  codings: readonly string[],
  maxBytes: number,
): Promise<Buffer> {
  let decoded = bytes;
  for (const coding of codings) {
    try {
      decoded = await INFLATERS.get(coding)!(decoded, { maxOutputLength: Math.max(1, maxBytes) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        throw new HttpBodyError(
          'BODY_TOO_LARGE',
          413,
          `request body is over the limit of ${maxBytes} bytes once decoded (${coding})`,
          { cause: error },
        );
      throw new HttpBodyError('BODY_ENCODING_INVALID', 400, `request body is not valid ${coding}`, {
        cause: error,
      });
    }
  }
  return decoded;
}
