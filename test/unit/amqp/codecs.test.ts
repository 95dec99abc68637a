import { CodecError, Codecs, jsonCodec, rawCodec, yamlCodec, type Codec } from '../../../lib';
import { encodeWith } from '../../../lib/resources/amqp/codecs/codec';
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
    const codecs = new Codecs();
    expect(codecs.named('yaml')).toBe(yamlCodec);
    expect(codecs.forContentType('application/json; charset=utf-8')).toBe(jsonCodec);
    expect(() => codecs.named('msgpack')).toThrow("no codec named 'msgpack'; registered: json, yaml, raw");
    expect(() => codecs.forContentType('image/png')).toThrow(
      expect.objectContaining({ code: 'CODEC_UNKNOWN_CONTENT_TYPE' }) as unknown as Error,
    );
  });

  it("takes a user's codec by name; a name or content type is taken once; each Codecs is its own", () => {
    const upper: Codec<string> = {
      contentType: 'text/x-upper',
      encode: (value) => Buffer.from(value.toUpperCase()),
      decode: (bytes) => bytes.toString().toLowerCase(),
    };
    const codecs = new Codecs({ upper });
    expect(codecs.decode(Buffer.from('HI'), 'text/x-upper', jsonCodec)).toBe('hi');
    expect(new Codecs({ upper, again: upper }).named('again')).toBe(upper);
    expect(() => new Codecs({ json: upper })).toThrow(CodecError);
    expect(() => new Codecs({ upper, other: { ...upper } })).toThrow(
      "a codec named 'other' or for content type 'text/x-upper' is already registered",
    );
    expect(() => new Codecs().named('upper')).toThrow(expect.objectContaining({ code: 'CODEC_UNKNOWN' }));
  });

  it('decodes a message without content type with the fallback codec; bad bytes and values are CodecErrors', () => {
    const codecs = new Codecs();
    expect(codecs.decode(Buffer.from('[1]'), undefined, jsonCodec)).toEqual([1]);
    expect(() => codecs.decode(Buffer.from('{'), 'application/json', jsonCodec)).toThrow(
      expect.objectContaining({ code: 'CODEC_DECODE' }) as unknown as Error,
    );
    // The one registry AMQP and Kafka decode with: a prototype-poisoned document is refused as an HTTP body is.
    for (const poisoned of [
      '{"__proto__":{"polluted":"yes"}}',
      '{"a":{"constructor":{"prototype":{"x":1}}}}',
    ]) {
      expect(() => codecs.decode(Buffer.from(poisoned), 'application/json', jsonCodec)).toThrow(
        expect.objectContaining({
          code: 'CODEC_DECODE',
          cause: expect.objectContaining({ code: 'BODY_PROTO_POISONING' }),
        }) as unknown as Error,
      );
    }
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
