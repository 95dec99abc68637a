import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SettingsProvider, type SettingsError } from '../../../lib/settings';
import { readFileLayer } from '../../../lib/settings/file-layer';

function dirWith(files: Record<string, string>): string {
  const cwd = mkdtempSync(join(tmpdir(), 'keel-file-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(cwd, name, '..'), { recursive: true });
    writeFileSync(join(cwd, name), content);
  }
  return cwd;
}

function failure(run: () => unknown): SettingsError {
  try {
    run();
  } catch (error) {
    return error as SettingsError;
  }
  throw new Error('expected a SettingsError');
}

describe('file layer', () => {
  it('reads KEEL_CONFIG_FILE as YAML or JSON by extension', () => {
    const cwd = dirWith({
      'a.yml': 'system:\n  deploy_name: y\n',
      'b.json': '{"system":{"deploy_name":"j"}}',
    });
    expect(readFileLayer({ KEEL_CONFIG_FILE: 'a.yml' }, cwd)?.tree).toEqual({ system: { deploy_name: 'y' } });
    expect(readFileLayer({ KEEL_CONFIG_FILE: 'b.json' }, cwd)?.tree).toEqual({
      system: { deploy_name: 'j' },
    });
  });

  it('falls back to config/<NODE_ENV>.yaml, then config/development.yaml, and to nothing', () => {
    const cwd = dirWith({ 'config/production.yaml': 'a: 1\n', 'config/development.yaml': 'a: 2\n' });
    expect(readFileLayer({ NODE_ENV: 'production' }, cwd)?.tree).toEqual({ a: 1 });
    expect(readFileLayer({}, cwd)?.tree).toEqual({ a: 2 });
    expect(readFileLayer({}, dirWith({}))).toBeUndefined();
  });

  it('names file, line and column of a YAML syntax error', () => {
    const cwd = dirWith({ 'broken.yaml': 'system:\n  deploy_name: ok\n  bad: [1, 2\n' });
    const error = failure(() => readFileLayer({ KEEL_CONFIG_FILE: 'broken.yaml' }, cwd));
    expect(error.code).toBe('SETTINGS_FILE');
    expect(error.message).toMatch(/^Syntax error in settings file broken\.yaml at line \d+, column \d+: /);
  });

  it('names file, line and column of a JSON syntax error', () => {
    const cwd = dirWith({ 'broken.json': '{\n  "system": {\n    "deploy_name": oops\n  }\n}\n' });
    const error = failure(() => readFileLayer({ KEEL_CONFIG_FILE: 'broken.json' }, cwd));
    expect(error.code).toBe('SETTINGS_FILE');
    expect(error.message).toContain('Syntax error in settings file broken.json at line 3, column 20');
  });

  it('rejects a missing explicit file, an unknown extension and a non-mapping document', () => {
    const cwd = dirWith({ 'list.yaml': '- 1\n', 'settings.toml': 'a = 1' });
    expect(failure(() => readFileLayer({ KEEL_CONFIG_FILE: 'nope.yaml' }, cwd)).message).toContain(
      'Cannot read settings file nope.yaml',
    );
    expect(failure(() => readFileLayer({ KEEL_CONFIG_FILE: 'settings.toml' }, cwd)).message).toContain(
      'must end in .yaml, .yml or .json',
    );
    expect(failure(() => readFileLayer({ KEEL_CONFIG_FILE: 'list.yaml' }, cwd)).message).toContain(
      'must hold a mapping at the top level',
    );
  });

  it('makes SettingsProvider.load reject with the file error', async () => {
    const cwd = dirWith({ 'config/development.yaml': 'a: [\n' });
    await expect(SettingsProvider.load({ serviceName: 's', scopes: [], env: {}, cwd })).rejects.toMatchObject(
      {
        code: 'SETTINGS_FILE',
        message: expect.stringContaining('config/development.yaml at line'),
      },
    );
  });
});
