import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import convict from 'convict';
import { httpServerSchema } from '../../../lib/resources/http/settings';
import { lifecycleSchema } from '../../../lib/lifecycle/settings';
import { loggingSchema } from '../../../lib/logging/schema';
import { convictSchema } from '../../../lib/settings/formats';
import {
  defineSettings,
  SettingsError,
  SettingsProvider,
  type SettingsLoadOptions,
  type SettingsOf,
  type SettingsScope,
} from '../../../lib/settings';
import { isSecretKey, maskText, redact, showValue } from '../../../lib/settings/redact';

const HTTP = 'system.resources.http';

const SCOPES: SettingsScope[] = [
  { path: 'system.lifecycle', owner: 'keel', schema: lifecycleSchema },
  { path: 'system.logging', owner: 'keel', schema: loggingSchema },
  { path: HTTP, owner: 'http', schema: httpServerSchema },
];

function dirWith(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-hardening-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function load(options: Partial<SettingsLoadOptions> = {}): Promise<SettingsProvider> {
  return SettingsProvider.load({
    serviceName: 'billing',
    scopes: SCOPES,
    env: {},
    cwd: dirWith(),
    warn: () => undefined,
    ...options,
  });
}

async function loadError(options: Partial<SettingsLoadOptions>): Promise<SettingsError> {
  const error = await load(options).then(
    async (settings) => {
      await settings.close();
      throw new Error('settings loaded');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(SettingsError);
  return error as SettingsError;
}

describe('settings trees are prototype-safe', () => {
  it('refuses __proto__ in a settings file, naming the key and the file; Object.prototype stays clean', async () => {
    const cwd = dirWith({
      'settings.json': '{"system":{"resources":{"http":{"__proto__":{"polluted_file":"yes"}}}}}',
      'config/development.yml':
        'system:\n  resources:\n    http:\n      __proto__:\n        polluted_file: yes\n',
    });
    const json = await loadError({ cwd, env: { KEEL_CONFIG_FILE: 'settings.json' } });
    expect(json.code).toBe('SETTINGS_UNSAFE_KEY');
    expect(json.message).toContain('system.resources.http.__proto__');
    expect(json.message).toContain('file settings.json');
    const error = await loadError({ cwd });
    expect(error.message).toContain(
      'Refused settings key "system.resources.http.__proto__.polluted_file" (from file config/development.yml)',
    );
    expect(({} as Record<string, unknown>).polluted_file).toBeUndefined();
  });

  it('refuses constructor/prototype in an environment variable name, naming the variable', async () => {
    const error = await loadError({ env: { KEEL__SYSTEM__CONSTRUCTOR__PROTOTYPE__POLLUTED: 'yes' } });
    expect(error.code).toBe('SETTINGS_UNSAFE_KEY');
    expect(error.message).toContain('env KEEL__SYSTEM__CONSTRUCTOR__PROTOTYPE__POLLUTED');
  });

  it('refuses __proto__ inside a JSON value from the environment and inline settings', async () => {
    const env = await loadError({ env: { KEEL__SYSTEM__RESOURCES__HTTP__CORS: '{"__proto__":{"x":1}}' } });
    expect(env.code).toBe('SETTINGS_UNSAFE_KEY');
    const inline = JSON.parse('{"system":{"__proto__":{"polluted_inline":"yes"}}}') as Record<
      string,
      unknown
    >;
    const error = await loadError({ inline });
    expect(error.message).toContain('system.__proto__');
    expect(error.message).toContain('settings given in code');
    const settings = await load();
    expect(() => settings.updateInternal(inline)).toThrow(
      /Refused settings key "system.__proto__.polluted_inline"/,
    );
    await settings.close();
    expect(({} as Record<string, unknown>).polluted_inline).toBeUndefined();
  });

  it('builds every node without a prototype', async () => {
    const settings = await load({ inline: { system: { resources: { http: { port: 1 } } } } });
    for (const node of [settings.get('system'), settings.get(HTTP)] as object[]) {
      expect(Object.prototype.isPrototypeOf.call(Object.prototype, node)).toBe(false);
      expect('toString' in node).toBe(false);
      expect('hasOwnProperty' in node).toBe(false);
    }
    expect(settings.get('system.constructor')).toBeUndefined();
    await settings.close();
  });
});

describe('bounded durations and plain decimal numbers', () => {
  it.each([
    ['KEEL__SYSTEM__RESOURCES__HTTP__DRAIN_TIMEOUT_MS', 'system.resources.http.drain_timeout_ms'],
    ['KEEL__SYSTEM__LIFECYCLE__STOP_TIMEOUT_MS', 'system.lifecycle.stop_timeout_ms'],
  ])('refuses %s=3000000000 (Node would fire it after 1 ms), naming the key', async (variable, key) => {
    const error = await loadError({ env: { [variable]: '3000000000' } });
    expect(error.code).toBe('SETTINGS_INVALID');
    expect(error.message).toContain(
      `${key}: expected duration (integer milliseconds 0-2147483647), got 3000000000`,
    );
    expect(error.message).toContain(`env ${variable}`);
  });

  it('accepts the largest delay a timer honours and refuses seconds past it', async () => {
    const settings = await load({ env: { KEEL__SYSTEM__LIFECYCLE__HOOK_TIMEOUT_MS: '2147483647' } });
    expect(settings.get('system.lifecycle.hook_timeout_ms')).toBe(2147483647);
    await settings.close();
    const error = await loadError({ env: { KEEL__SYSTEM__LOGGING__HTTP__TIMEOUT_SECONDS: '3000000' } });
    expect(error.message).toContain('system.logging.http.timeout_seconds: expected duration_seconds');
  });

  it.each(['0x6D9C', '2.8060e4', 'Infinity', ' 28060', '28060.0'])(
    'takes only plain decimal integers for a port: %s is reported as given',
    async (raw) => {
      const error = await loadError({ env: { KEEL__SYSTEM__RESOURCES__HTTP__PORT: raw } });
      expect(error.message).toContain(
        `system.resources.http.port: expected port (integer 0-65535), got ${JSON.stringify(raw)}`,
      );
    },
  );

  it('shows a non-finite number as itself, not as null', () => {
    expect(showValue(['x'], Infinity)).toBe('Infinity');
    expect(showValue(['x'], NaN)).toBe('NaN');
  });

  it('cuts an echoed value to a bounded length, saying how long it was', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const error = await loadError({ env: { KEEL__SYSTEM__RESOURCES__HTTP__PORT: huge } });
    expect(error.message.length).toBeLessThan(1000);
    expect(error.message).toContain('(1048578 characters, cut)');
  });
});

describe('nothing silently ignored', () => {
  it('warns about unknown scopes and resource names, from files and the environment, with the closest key', async () => {
    const warnings: string[] = [];
    const settings = await load({
      cwd: dirWith({
        'config/development.yml': 'sytem:\n  deploy_name: x\nsystem:\n  lifecyle:\n    stop_timeout_ms: 5\n',
      }),
      env: { KEEL__SYSTEM__RESOURCES__HTPP__PORT: '9000' },
      warn: (message) => warnings.push(message),
    });
    const text = warnings.join('\n');
    expect(text).toContain(
      'sytem (from file config/development.yml (sytem)): no schema declares it; did you mean system',
    );
    expect(text).toContain(
      'system.lifecyle (from file config/development.yml (system.lifecyle)): no schema declares it; did you mean system.lifecycle.',
    );
    expect(text).toContain('system.resources.htpp (from env KEEL__SYSTEM__RESOURCES__HTPP__PORT)');
    expect(text).toContain('did you mean system.resources.http.');
    await settings.close();
  });

  it('refuses unknown keys with system.settings.unknown_keys: error', async () => {
    const error = await loadError({
      env: { KEEL__SYSTEM__SETTINGS__UNKNOWN_KEYS: 'error', KEEL__SYSTEM__LIFECYLE__STOP_TIMEOUT_MS: '5' },
    });
    expect(error.code).toBe('SETTINGS_INVALID');
    expect(error.message).toContain(
      'system.lifecyle (from env KEEL__SYSTEM__LIFECYLE__STOP_TIMEOUT_MS): no schema declares it',
    );
    const settings = await load({ inline: { system: { settings: { unknown_keys: 'error' } } } });
    expect(() => settings.updateInternal({ system: { resources: { htpp: { port: 1 } } } })).toThrow(
      /system\.resources\.htpp .*did you mean system\.resources\.http\./,
    );
    await settings.close();
  });

  it("reports a scalar replacing a schema object as such (Tamarco's sample has logging.file: false)", async () => {
    const error = await loadError({
      cwd: dirWith({ 'config/development.yml': 'system:\n  logging:\n    file: false\n' }),
    });
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain(
      'system.logging.file: expected an object with keys max_bytes, period, count, got false (from file config/development.yml',
    );
    expect(error.message).not.toContain('missing');
  });

  it('reads config/<env>.yml as well as .yaml, refuses both at once, and logs which file it read or where it looked', async () => {
    const infos: string[] = [];
    const yml = await load({
      cwd: dirWith({ 'config/development.yml': 'system:\n  deploy_name: from-yml\n' }),
      info: (message) => infos.push(message),
    });
    expect(yml.get('system.deploy_name')).toBe('from-yml');
    await yml.close();
    expect(infos).toEqual(['Settings file config/development.yml loaded']);
    const both = await loadError({
      cwd: dirWith({ 'config/development.yml': 'a: 1\n', 'config/development.yaml': 'a: 1\n' }),
    });
    expect(both.code).toBe('SETTINGS_FILE');
    expect(both.message).toContain('both config/development.yml and config/development.yaml exist');
    const none = await load({ env: { NODE_ENV: 'staging' }, info: (message) => infos.push(message) });
    await none.close();
    expect(infos[1]).toMatch(
      /^No settings file: neither config\/staging\.yml nor config\/staging\.yaml exists in /,
    );
  });

  it('knows every format its types accept: url, email, ipaddress, duration', async () => {
    const schema = defineSettings({
      endpoint: { format: 'url', default: 'https://example.com/' },
      owner: { format: 'email', default: 'ops@example.com' },
      bind: { format: 'ipaddress', default: '127.0.0.1' },
      every: { format: 'duration', default: 1000 },
    });
    const value: SettingsOf<typeof schema> = { endpoint: '', owner: '', bind: '', every: 0 };
    expect(value.every).toBe(0);
    const scopes = [{ path: 'system.resources.formats', owner: 'formats', schema }];
    const good = await load({ scopes });
    expect(good.get('system.resources.formats')).toEqual({
      endpoint: 'https://example.com/',
      owner: 'ops@example.com',
      bind: '127.0.0.1',
      every: 1000,
    });
    await good.close();
    const error = await loadError({
      scopes,
      inline: {
        system: { resources: { formats: { endpoint: 'nope', owner: 'nope', bind: '1.2.3', every: -1 } } },
      },
    });
    expect(error.issues.map((issue) => issue.path.split('.').pop())).toEqual([
      'endpoint',
      'owner',
      'bind',
      'every',
    ]);
    // convict, loading the same schema on its own, knows them too once they are handed to it.
    expect(() => convict(convictSchema(schema)).validate({ allowed: 'strict' })).not.toThrow();
  });

  it('names the allowed values of an invalid logging.profile', async () => {
    const error = await loadError({ env: { KEEL__SYSTEM__LOGGING__PROFILE: 'LOUD' } });
    expect(error.message).toContain(
      'system.logging.profile: expected a value its format accepts, got "LOUD"',
    );
    expect(error.message).toContain('allowed values: DEVELOP, TESTING, PRODUCTION');
    expect(error.message).not.toContain('custom format format');
  });
});

describe('one redaction for logs, status, errors and the CLI', () => {
  it.each([
    'password',
    'db_password',
    'dbPassword',
    'client_secret',
    'auth_token',
    'apiKey',
    'api_key',
    'private_key',
    'credentials',
    'bearer',
    'Authorization',
    'Cookie',
    'set-cookie',
    'database_dsn',
    'pass',
  ])('%s is a secret key', (key) => expect(isSecretKey(key)).toBe(true));

  it.each(['passed', 'max_tokens', 'bypass_cache', 'passenger', 'compass', 'tokenizer', 'author'])(
    '%s is not',
    (key) => expect(isSecretKey(key)).toBe(false),
  );

  it('masks credentials inside URLs wherever a text is printed', () => {
    expect(maskText('connecting to postgres://app:dsnpass-111@db.internal:5432/app failed')).toBe(
      'connecting to postgres://[redacted]@db.internal:5432/app failed',
    );
    expect(redact({ database_url: 'postgres://app:dsnpass-111@db/app', auth: { bearer: 'abc' } })).toEqual({
      database_url: 'postgres://[redacted]@db/app',
      auth: { bearer: '[redacted]' },
    });
    expect(redact({ headers: { authorization: 'Basic YTpi', cookie: 'sid=1', accept: '*/*' } })).toEqual({
      headers: { authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' },
    });
  });

  it('redacts a value under sensitive: true in validation errors, and masks known secret values in texts', async () => {
    const schema = defineSettings({
      dsn_options: {
        format: (value: unknown) => {
          if (value !== 'ok') throw new Error(`bad ${String(value)}`);
        },
        default: 'ok',
        sensitive: true,
      },
      login: { format: String, default: 'x7-hunter2-y', sensitive: true },
      limit: { format: 'nat', default: 1 },
    });
    const scopes = [{ path: 'system.resources.db', owner: 'db', schema }];
    const error = await loadError({
      scopes,
      inline: { system: { resources: { db: { dsn_options: 'pw=hunter2', limit: -1 } } } },
    });
    expect(error.message).toContain(
      'system.resources.db.dsn_options: expected a value its format accepts, got [redacted]',
    );
    expect(error.message).not.toContain('hunter2');
    const settings = await load({ scopes });
    expect(maskText('login failed with x7-hunter2-y for user app')).toBe(
      'login failed with [redacted] for user app',
    );
    expect(redact({ err: { message: 'auth x7-hunter2-y refused' } })).toEqual({
      err: { message: 'auth [redacted] refused' },
    });
    await settings.close();
    expect(maskText('login failed with x7-hunter2-y')).toBe('login failed with x7-hunter2-y');
  });

  it('marks the secrets of the built-in schemas sensitive', () => {
    expect(loggingSchema.http.password).toMatchObject({ sensitive: true });
  });
});
