import { CodecError, jsonCodec, rawCodec, registerCodec, yamlCodec, type Codec } from '../../../lib';
import { codecFor, codecNamed, decodeMessage, encodeWith } from '../../../lib/resources/amqp/codecs/codec';
import { redactUrl } from '../../../lib/settings/redact';

describe('codecs', () => {
  it('JSON, YAML and raw bytes encode and decode', () => {
    const value = { order: 7, items: ['a', 'b'], paid: true };
    expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
    expect(yamlCodec.decode(yamlCodec.encode(value))).toEqual(value);
    expect(yamlCodec.encode(value).toString()).toContain('order: 7');
    expect(rawCodec.decode(rawCodec.encode(Buffer.from([0, 255])))).toEqual(Buffer.from([0, 255]));
    expect(rawCodec.encode('text')).toEqual(Buffer.from('text'));
  });

  it('finds codecs by name and by content type, parameters ignored', () => {
    expect(codecNamed('yaml')).toBe(yamlCodec);
    expect(codecFor('application/json; charset=utf-8')).toBe(jsonCodec);
    expect(() => codecNamed('msgpack')).toThrow("no codec named 'msgpack'; registered: json, yaml, raw");
    expect(() => codecFor('image/png')).toThrow(
      expect.objectContaining({ code: 'CODEC_UNKNOWN_CONTENT_TYPE' }) as unknown as Error,
    );
  });

  it("registers a user's codec by name; a name or content type is taken once", () => {
    const upper: Codec<string> = {
      contentType: 'text/x-upper',
      encode: (value) => Buffer.from(value.toUpperCase()),
      decode: (bytes) => bytes.toString().toLowerCase(),
    };
    registerCodec('upper', upper);
    registerCodec('upper', upper);
    expect(decodeMessage(Buffer.from('HI'), 'text/x-upper', jsonCodec)).toBe('hi');
    expect(() => registerCodec('json', upper)).toThrow(CodecError);
    expect(() => registerCodec('other', { ...upper })).toThrow(
      "a codec named 'other' or for content type 'text/x-upper' is already registered",
    );
  });

  it('decodes a message without content type with the fallback codec; bad bytes and values are CodecErrors', () => {
    expect(decodeMessage(Buffer.from('[1]'), undefined, jsonCodec)).toEqual([1]);
    expect(() => decodeMessage(Buffer.from('{'), 'application/json', jsonCodec)).toThrow(
      expect.objectContaining({ code: 'CODEC_DECODE' }) as unknown as Error,
    );
    expect(() => encodeWith(jsonCodec, { big: 1n }, "publish('x')")).toThrow(
      /^publish\('x'\): application\/json cannot encode it: /,
    );
    expect(() => encodeWith(rawCodec as Codec, 5, 'push')).toThrow(
      'the raw codec sends a Buffer or a string',
    );
  });
});

describe('redactUrl', () => {
  it('hides user and password, keeps the rest', () => {
    expect(redactUrl('amqp://app:s3cret@rabbit.internal:5672/prod?heartbeat=5')).toBe(
      'amqp://[redacted]@rabbit.internal:5672/prod?heartbeat=5',
    );
    expect(redactUrl('amqp://127.0.0.1')).toBe('amqp://127.0.0.1');
    expect(redactUrl('amqp://app:p@ss@rabbit.internal')).toBe('amqp://[redacted]@rabbit.internal');
    expect(redactUrl('not a url s3cret')).toBe('[redacted]');
  });
});
