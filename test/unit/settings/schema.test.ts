import convict from 'convict';
import {
  defineSettings,
  SettingsError,
  type SettingsOf,
  type SettingsSchema,
  type SettingsView,
} from '../../../lib/settings';
import { compileSchema } from '../../../lib/settings/schema';
import { httpSchema } from './schemas';

type Http = SettingsOf<typeof httpSchema>;

describe('SettingsOf', () => {
  it('infers each leaf type from the format and the default', () => {
    // Each assignment is checked by the type checker: a wrong inference fails `npm run typecheck`.
    const value: Http = { host: 'h', port: 1, debug: true, mode: 'fast', limits: { body_kb: 1, headers: 2 } };
    const mode: 'fast' | 'safe' = value.mode;
    const port: number = value.port;
    // @ts-expect-error the enum format narrows `mode` to its values
    const wrongMode: Http['mode'] = 'turbo';
    // @ts-expect-error `port` is a number, not a string
    const wrongPort: Http['port'] = '80';
    expect([mode, port, wrongMode, wrongPort]).toEqual(['fast', 1, 'turbo', '80']);
  });

  it('lets a view typed by the schema read leaves without casts', () => {
    const view = { get: (key: string) => ({ port: 8080 })[key] } as unknown as SettingsView<Http>;
    const port: number = view.get('port');
    // @ts-expect-error only declared keys can be read
    view.get('prot');
    expect(port).toBe(8080);
  });

  it('types nullable leaves and custom validators', () => {
    const schema = defineSettings({
      token: { format: String, default: null, nullable: true },
      ratio: {
        default: 0.5,
        format: (value: unknown): asserts value is number => {
          if (typeof value !== 'number' || value < 0 || value > 1) throw new Error('must be within 0..1');
        },
      },
    });
    const value: SettingsOf<typeof schema> = { token: null, ratio: 0.2 };
    expect(
      compileSchema(schema, 's').leaves.map((leaf) => leaf.check(value[leaf.path[0] as keyof typeof value])),
    ).toEqual([undefined, undefined]);
  });
});

describe('compileSchema', () => {
  const compiled = compileSchema(httpSchema, 'system.resources.http');
  const leaf = (path: string) => compiled.leaves.find((candidate) => candidate.path.join('.') === path)!;

  it('collects defaults as a tree', () => {
    expect(compiled.defaults).toEqual({
      host: '127.0.0.1',
      port: 8080,
      debug: false,
      mode: 'safe',
      limits: { body_kb: 64, headers: 100 },
    });
  });

  it('checks values by format without coercing strings', () => {
    expect(leaf('port').check(8081)).toBeUndefined();
    expect(leaf('port').check('8081')).toBe('invalid');
    expect(leaf('port').check(70000)).toBe('invalid');
    expect(leaf('mode').check('turbo')).toBe('invalid');
    expect(leaf('debug').check(null)).toBe('missing');
    expect(leaf('limits.body_kb').check(-1)).toBe('invalid');
  });

  it('describes the expected format', () => {
    expect(leaf('port').expected).toBe('port (integer 0-65535)');
    expect(leaf('mode').expected).toBe('one of ["fast","safe"]');
    expect(leaf('host').expected).toBe('string');
  });

  it('parses environment strings by format', () => {
    expect(leaf('port').coerce('9090')).toBe(9090);
    expect(leaf('debug').coerce('true')).toBe(true);
    expect(leaf('host').coerce('123')).toBe('123');
    expect(leaf('port').coerce('abc')).toBe('abc');
  });

  it('finds leaves whatever the letter case', () => {
    expect(compiled.leafMatching(['limits', 'body_kb'])?.path).toEqual(['limits', 'body_kb']);
    expect(
      compileSchema({ maxItems: { format: 'nat', default: 1 } }, 's').leafMatching(['maxitems'])?.path,
    ).toEqual(['maxItems']);
  });

  it('delegates formats registered with convict to convict', () => {
    convict.addFormat({
      name: 'even',
      validate: (value: unknown) => {
        if (typeof value !== 'number' || value % 2 !== 0) throw new Error('must be even');
      },
    });
    const even = compileSchema({ n: { format: 'even', default: 2 } }, 's').leaves[0];
    expect(even.check(4)).toBeUndefined();
    expect(even.check(3)).toBe('invalid');
  });

  it('rejects a malformed schema with SETTINGS_SCHEMA', () => {
    expect(() =>
      compileSchema({ n: { format: 'no_such_format', default: 1 } }, 'system.resources.x'),
    ).toThrow(
      expect.objectContaining({
        code: 'SETTINGS_SCHEMA',
        message: expect.stringContaining('system.resources.x'),
      }),
    );
    expect(() => compileSchema({ n: { format: 'no_such_format', default: 1 } }, 's')).toThrow(SettingsError);
  });

  it.each([
    ['an unknown format name', { a: { b: { format: 'no_such_format', default: 1 } } }],
    ['a lower-case constructor name', { n: { format: 'string', default: '' } }],
    ['a format that is neither a name, a list nor a function', { n: { format: 42, default: 1 } }],
    ['a reserved key', { n: { _cvtProperties: { default: 1 } } }],
    ['a constructor key with a prototype', { constructor: { prototype: 1, x: 2 } }],
    ['a command-line argument used twice', { a: { default: 1, arg: 'x' }, b: { default: 2, arg: 'x' } }],
  ])('refuses %s with the message convict gives', (_, schema) => {
    let convictMessage = '';
    try {
      convict(schema as never, { args: [], env: {} });
    } catch (error) {
      convictMessage = (error as Error).message;
    }
    expect(convictMessage).not.toBe('');
    expect(() => compileSchema(schema as SettingsSchema, 'system.resources.x')).toThrow(
      `Invalid settings schema for system.resources.x: ${convictMessage}`,
    );
  });

  it('compiles a schema once, whatever scope it is used at', () => {
    const schema = { port: { format: 'port', default: 1 } };
    expect(compileSchema(schema, 'system.resources.a')).toBe(compileSchema(schema, 'system.resources.b'));
  });
});

describe('defineSettings', () => {
  it('returns a schema accepted wherever a SettingsSchema is expected', () => {
    const asContract: SettingsSchema = httpSchema;
    expect(asContract).toBe(httpSchema);
  });
});
