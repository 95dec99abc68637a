import type { ServiceIdentifier } from '../../../container/injection';
import type * as Yaml from 'yaml';
import { CodecError } from '../errors';
import { parseJson } from '../../http/body';
import { messageOf } from '../../../util';

// Required on first use, as the settings' file layer does: most services send no YAML.
function yaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof Yaml;
}

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
  // A message is outside input as a request body is: `__proto__` keys refused the same way.
  decode: (bytes) => parseJson(bytes, 'the message'),
};

export const yamlCodec: Codec = {
  contentType: 'application/yaml',
  encode: (value) => Buffer.from(yaml().stringify(value)),
  decode: (bytes) => yaml().parse(bytes.toString('utf8')) as unknown,
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

const BUILT_IN: Readonly<Record<string, Codec>> = {
  json: jsonCodec,
  yaml: yamlCodec,
  raw: rawCodec as Codec,
};

/**
 * The codecs of one service: the built-in `json`, `yaml` and `raw`, and those its module adds
 * (`providers: [{ provide: CODECS, useValue: new Codecs({ msgpack }) }]`). Per service, not per
 * process: two services in one process may give one name two codecs.
 */
export class Codecs {
  private readonly byName = new Map<string, Codec>();
  private readonly byContentType = new Map<string, Codec>();

  constructor(codecs: Readonly<Record<string, Codec>> = {}) {
    for (const [name, codec] of Object.entries(BUILT_IN)) this.add(name, codec);
    for (const [name, codec] of Object.entries(codecs)) this.add(name, codec);
  }

  /** The codec by its name (the `codec` setting, `{ codec }` per call). */
  named(name: string): Codec {
    const codec = this.byName.get(name);
    if (codec === undefined) {
      throw new CodecError(
        'CODEC_UNKNOWN',
        `no codec named '${name}'; registered: ${[...this.byName.keys()].join(', ')} (add one with the CODECS provider)`,
      );
    }
    return codec;
  }

  /** The codec for a message's content type (parameters such as `; charset=utf-8` ignored). */
  forContentType(contentType: string): Codec {
    const codec =
      this.byContentType.get(contentType) ??
      this.byContentType.get(contentType.split(';', 1)[0].trim().toLowerCase());
    if (codec === undefined) {
      throw new CodecError(
        'CODEC_UNKNOWN_CONTENT_TYPE',
        `no codec registered for content type '${contentType}'`,
      );
    }
    return codec;
  }

  /** Decodes by `contentType`, or with `fallback` when the message carries none. */
  decode(bytes: Buffer, contentType: string | undefined, fallback: Codec): unknown {
    const codec =
      contentType === undefined || contentType === '' ? fallback : this.forContentType(contentType);
    try {
      return codec.decode(bytes);
    } catch (error) {
      throw new CodecError('CODEC_DECODE', `${codec.contentType} cannot decode it: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  private add(name: string, codec: Codec): void {
    const taken = this.byName.get(name) ?? this.byContentType.get(codec.contentType);
    if (taken !== undefined && taken !== codec) {
      throw new CodecError(
        'CODEC_DUPLICATE',
        `a codec named '${name}' or for content type '${codec.contentType}' is already registered`,
      );
    }
    this.byName.set(name, codec);
    this.byContentType.set(codec.contentType, codec);
  }
}

/** The service's codecs (a `Codecs`), injected by the resources that encode messages; built-ins only unless provided. */
export const CODECS: ServiceIdentifier<Codecs> = Symbol.for('keel.CODECS');

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
