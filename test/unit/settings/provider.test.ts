import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SettingsError,
  SettingsProvider,
  type SettingsLoadOptions,
  type SettingsOf,
} from '../../../lib/settings';
import { databaseSchema, httpSchema } from './schemas';

const HTTP = 'system.resources.http';
const DB = 'system.resources.db';

function emptyDir(): string {
  return mkdtempSync(join(tmpdir(), 'keel-settings-'));
}

function load(options: Partial<SettingsLoadOptions> = {}): Promise<SettingsProvider> {
  return SettingsProvider.load({
    serviceName: 'billing',
    scopes: [{ path: HTTP, owner: 'http', schema: httpSchema }],
    env: {},
    cwd: emptyDir(),
    ...options,
  });
}

describe('SettingsProvider layers', () => {
  it('gives schema defaults when no layer sets anything', async () => {
    const settings = await load();
    const http = settings.view<SettingsOf<typeof httpSchema>>(HTTP);
    expect(http.get('port')).toBe(8080);
    expect(http.value().limits).toEqual({ body_kb: 64, headers: 100 });
    await settings.close();
  });

  it('stacks file < env < inline, later wins', async () => {
    const cwd = emptyDir();
    mkdirSync(join(cwd, 'config'));
    writeFileSync(
      join(cwd, 'config', 'staging.yaml'),
      'system:\n  deploy_name: stage\n  resources:\n    http:\n      port: 1000\n      host: 0.0.0.0\n      debug: true\n',
    );
    const settings = await load({
      cwd,
      env: {
        NODE_ENV: 'staging',
        KEEL__SYSTEM__RESOURCES__HTTP__PORT: '2000',
        KEEL__SYSTEM__RESOURCES__HTTP__DEBUG: 'false',
      },
      inline: { system: { resources: { http: { host: '10.0.0.1' } } } },
    });
    expect(settings.view(HTTP).value()).toMatchObject({
      port: 2000,
      debug: false,
      host: '10.0.0.1',
      mode: 'safe',
    });
    expect(settings.get('system.deploy_name')).toBe('stage');
    await settings.close();
  });

  it('merges system.microservices.<service> over system key by key, only for that service', async () => {
    const inline = {
      system: {
        logging: { profile: 'PRODUCTION', stdout: true },
        resources: { http: { port: 1000, limits: { body_kb: 10, headers: 20 } } },
        microservices: {
          billing: { logging: { profile: 'DEVELOP' }, resources: { http: { limits: { body_kb: 99 } } } },
          other: { resources: { http: { port: 7 } } },
        },
      },
    };
    const settings = await load({ inline });
    expect(settings.get('system.logging')).toEqual({ profile: 'DEVELOP', stdout: true });
    expect(settings.view(HTTP).value()).toMatchObject({ port: 1000, limits: { body_kb: 99, headers: 20 } });
    const other = await load({ inline, serviceName: 'other' });
    expect(other.get('system.logging')).toEqual({ profile: 'PRODUCTION', stdout: true });
    expect(other.view(HTTP).get('port')).toBe(7);
    await Promise.all([settings.close(), other.close()]);
  });

  it('lets a higher layer win over a lower layer’s per-service override', async () => {
    const settings = await load({
      env: { KEEL__SYSTEM__RESOURCES__HTTP__PORT: '3000' },
      inline: {},
      cwd: fileDir(
        's.json',
        JSON.stringify({ system: { microservices: { billing: { resources: { http: { port: 1 } } } } } }),
      ),
    });
    expect(settings.view(HTTP).get('port')).toBe(3000);
    await settings.close();
  });

  it('reads environment overrides of a single service and schema keys in camelCase', async () => {
    const settings = await load({
      scopes: [
        {
          path: 'system.resources.queue',
          owner: 'queue',
          schema: { maxItems: { format: 'nat', default: 1 } },
        },
      ],
      env: {
        KEEL__SYSTEM__MICROSERVICES__BILLING__RESOURCES__QUEUE__MAXITEMS: '42',
        KEEL__SYSTEM__FLAGS: '["a","b"]',
      },
    });
    expect(settings.view('system.resources.queue').get('maxItems')).toBe(42);
    expect(settings.get('system.flags')).toEqual(['a', 'b']);
    await settings.close();
  });

  it('hands out frozen values', async () => {
    const settings = await load();
    const value = settings.view(HTTP).value() as { port: number };
    expect(() => {
      value.port = 1;
    }).toThrow(TypeError);
    await settings.close();
  });
});

function fileDir(name: string, content: string): string {
  const cwd = emptyDir();
  writeFileSync(join(cwd, name), content);
  return cwd;
}

describe('SettingsProvider validation', () => {
  it('lists every bad or missing key of every scope at once, with format and layer', async () => {
    const cwd = fileDir('bad.yaml', 'system:\n  resources:\n    http:\n      mode: turbo\n');
    const error = await load({
      cwd,
      scopes: [
        { path: HTTP, owner: 'http', schema: httpSchema },
        { path: DB, owner: 'db', schema: databaseSchema },
      ],
      env: { KEEL_CONFIG_FILE: 'bad.yaml', KEEL__SYSTEM__RESOURCES__HTTP__PORT: 'abc' },
      inline: { system: { resources: { db: { pool: -2, password: 'hunter2' } } } },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SettingsError);
    const settingsError = error as SettingsError;
    expect(settingsError.code).toBe('SETTINGS_INVALID');
    expect(settingsError.issues.map((issue) => issue.path).sort()).toEqual([
      'system.resources.db.pool',
      'system.resources.db.url',
      'system.resources.http.mode',
      'system.resources.http.port',
    ]);
    expect(settingsError.message).toContain(
      'system.resources.http.port: expected port (integer 0-65535), got "abc" (from env KEEL__SYSTEM__RESOURCES__HTTP__PORT)',
    );
    expect(settingsError.message).toContain(
      'system.resources.http.mode: expected one of ["fast","safe"], got "turbo" (from file bad.yaml (system.resources.http.mode))',
    );
    expect(settingsError.message).toContain(
      '  - [db] system.resources.db.url: expected string, missing: no layer sets it and the schema has no default',
    );
    expect(settingsError.message).toContain('system.resources.db.pool: expected nat (integer >= 0), got -2');
    expect(settingsError.message).not.toContain('hunter2');
  });

  it('redacts secret values in validation errors', async () => {
    const error = (await load({
      scopes: [{ path: DB, owner: 'db', schema: { api_key: { format: 'nat', default: 1 } } }],
      inline: { system: { resources: { db: { api_key: 'sk-live-123' } } } },
    }).catch((caught: unknown) => caught)) as SettingsError;
    expect(error.message).toContain(
      'system.resources.db.api_key: expected nat (integer >= 0), got [redacted]',
    );
    expect(error.message).not.toContain('sk-live-123');
  });

  it('warns once, naming the unknown keys under a scope', async () => {
    const warnings: string[] = [];
    const settings = await load({
      warn: (message) => warnings.push(message),
      inline: { system: { resources: { http: { prot: 1, limits: { bodykb: 2 } } }, other: { free: true } } },
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'system.resources.http.limits.bodykb (from settings given in code (system.resources.http.limits.bodykb)): no schema declares it; did you mean system.resources.http.limits.body_kb?',
    );
    expect(warnings[0]).toContain('system.resources.http.prot');
    expect(warnings[0]).toContain('did you mean system.resources.http.port?');
    await settings.close();
  });
});

describe('SettingsProvider at run time', () => {
  it('applies updateInternal, notifies watchers with next and previous values, and refreshes views', async () => {
    const settings = await load();
    const http = settings.view<SettingsOf<typeof httpSchema>>(HTTP);
    const seen: unknown[] = [];
    http.watch('port', (next, previous) => seen.push(['port', next, previous]));
    http.watch('', (next, previous) =>
      seen.push(['scope', (next as { port: number }).port, (previous as { port: number }).port]),
    );
    settings.watch('system.resources.http.host', (next) => seen.push(['host', next]));
    settings.updateInternal({ system: { resources: { http: { port: 9000 } } } });
    expect(http.get('port')).toBe(9000);
    expect(seen).toEqual([
      ['port', 9000, 8080],
      ['scope', 9000, 8080],
    ]);
    await settings.close();
  });

  it('rejects an invalid updateInternal and keeps the previous value', async () => {
    const settings = await load();
    const calls: unknown[] = [];
    settings.watch(HTTP, (next) => calls.push(next));
    expect(() => settings.updateInternal({ system: { resources: { http: { port: 'abc' } } } })).toThrow(
      expect.objectContaining({
        code: 'SETTINGS_UPDATE_REJECTED',
        message: expect.stringContaining('system.resources.http.port'),
      }),
    );
    expect(settings.view(HTTP).get('port')).toBe(8080);
    expect(calls).toEqual([]);
    await settings.close();
  });

  it('stops calling a watcher after unsubscribe, and reports a throwing watcher without stopping others', async () => {
    const warnings: string[] = [];
    const settings = await load({ warn: (message) => warnings.push(message) });
    const calls: number[] = [];
    const unsubscribe = settings.watch('system.resources.http.port', (next) => calls.push(next as number));
    settings.watch('system.resources.http.port', () => {
      throw new Error('boom');
    });
    settings.updateInternal({ system: { resources: { http: { port: 1 } } } });
    unsubscribe();
    settings.updateInternal({ system: { resources: { http: { port: 2 } } } });
    expect(calls).toEqual([1]);
    expect(warnings).toEqual([
      'A settings watcher of "system.resources.http.port" threw: boom',
      'A settings watcher of "system.resources.http.port" threw: boom',
    ]);
    await settings.close();
  });

  it('refuses new watches after close', async () => {
    const settings = await load();
    await settings.close();
    expect(() => settings.watch(HTTP, () => undefined)).toThrow(
      expect.objectContaining({ code: 'SETTINGS_CLOSED' }),
    );
  });
});
