import { loadYaml } from '../../../settings/file-layer';
import { CodecError } from '../errors';

/**
 * Turns message values into bytes and back. A message carries its codec's content type, and a
 * consumer picks the codec to decode it by that type, whatever codec it encodes with itself.
 */
export interface Codec<T = unknown> {
  /** A MIME type, unique among registered codecs: `application/json`. */
  readonly contentType: string;
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}

export const jsonCodec: Codec = {
  contentType: 'application/json',
  encode: (value) => Buffer.from(JSON.stringify(value) ?? 'null'),
  decode: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
};

export const yamlCodec: Codec = {
  contentType: 'application/yaml',
  encode: (value) => Buffer.from(loadYaml().stringify(value)),
  decode: (bytes) => loadYaml().parse(bytes.toString('utf8')) as unknown,
};

/** Bytes as they are; a string is sent as UTF-8. */
export const rawCodec: Codec<Buffer | string> = {
  contentType: 'application/octet-stream',
  encode: (value) => {
    if (Buffer.isBuffer(value)) return value;
    if (typeof value === 'string') return Buffer.from(value);
    throw new TypeError(`the raw codec sends a Buffer or a string, not ${typeof value}`);
  },
  decode: (bytes) => bytes,
};

const byName = new Map<string, Codec>([
  ['json', jsonCodec],
  ['yaml', yamlCodec],
  ['raw', rawCodec as Codec],
]);
const byContentType = new Map<string, Codec>([...byName.values()].map((codec) => [codec.contentType, codec]));

/** Makes `codec` usable by name (in the `codec` setting and per call) and for decoding by its content type. */
export function registerCodec<T>(name: string, codec: Codec<T>): void {
  const taken = byName.get(name) ?? byContentType.get(codec.contentType);
  if (taken !== undefined && taken !== codec) {
    throw new CodecError(
      'CODEC_DUPLICATE',
      `a codec named '${name}' or for content type '${codec.contentType}' is already registered`,
    );
  }
  byName.set(name, codec as Codec);
  byContentType.set(codec.contentType, codec as Codec);
}

export function codecNamed(name: string): Codec {
  const codec = byName.get(name);
  if (codec === undefined) {
    throw new CodecError(
      'CODEC_UNKNOWN',
      `no codec named '${name}'; registered: ${[...byName.keys()].join(', ')} (registerCodec adds one)`,
    );
  }
  return codec;
}

/** The codec for a message's content type (parameters such as `; charset=utf-8` ignored). */
export function codecFor(contentType: string): Codec {
  const codec =
    byContentType.get(contentType) ?? byContentType.get(contentType.split(';', 1)[0].trim().toLowerCase());
  if (codec === undefined) {
    throw new CodecError(
      'CODEC_UNKNOWN_CONTENT_TYPE',
      `no codec registered for content type '${contentType}'`,
    );
  }
  return codec;
}

export function encodeWith(codec: Codec, value: unknown, what: string): Buffer {
  try {
    return codec.encode(value);
  } catch (error) {
    throw new CodecError(
      'CODEC_ENCODE',
      `${what}: ${codec.contentType} cannot encode it: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Decodes by `contentType`, or with `fallback` when the message carries none. */
export function decodeMessage(bytes: Buffer, contentType: string | undefined, fallback: Codec): unknown {
  const codec = contentType === undefined || contentType === '' ? fallback : codecFor(contentType);
  try {
    return codec.decode(bytes);
  } catch (error) {
    throw new CodecError('CODEC_DECODE', `${codec.contentType} cannot decode it: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
