import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_ENTRY, exec, FIXTURES, keel } from './cli';

jest.setTimeout(120_000);

const SERVICE = path.join(FIXTURES, 'service.ts');
// eslint-disable-next-line no-control-regex -- colours are escape sequences
const ANSI = /\x1b\[[0-9;]*m/g;
const PRETTY_READY = /^\d\d:\d\d:\d\d\.\d{3} INFO {5}cli_fixture cli_fixture ready in [\d.]+ ms ms=[\d.]+$/m;
const JSON_READY = /^\{"name":"cli_fixture".*"msg":"cli_fixture ready in [\d.]+ ms"/m;

/** A service that stops itself once started, with the given profile and format. */
function env(profile: string, format?: string): NodeJS.ProcessEnv {
  return {
    CLI_FIXTURE_STOP: '1',
    KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
    KEEL__SYSTEM__LOGGING__PROFILE: profile,
    ...(format !== undefined && { KEEL__SYSTEM__LOGGING__FORMAT: format }),
  };
}

/** `keel run` with stdout on a pseudo-terminal (util-linux `script`), as in a developer's shell. */
async function onTerminal(environment: NodeJS.ProcessEnv) {
  const command = [process.execPath, '-r', '@swc-node/register', CLI_ENTRY, 'run', SERVICE]
    .map((word) => `'${word}'`)
    .join(' ');
  const result = await exec('script', ['-qefc', command, '/dev/null'], { env: environment });
  const text = result.stdout.replace(/\r\n/g, '\n');
  return { code: result.code, raw: text, text: text.replace(ANSI, '') };
}

describe('development logs', () => {
  it('DEVELOP on a terminal: one readable, coloured line per record', async () => {
    const { code, raw, text } = await onTerminal(env('DEVELOP'));
    expect(code).toBe(0);
    expect(text).toMatch(PRETTY_READY);
    expect(text).toMatch(/ INFO {5}cli_fixture\.marker marker stop hook ran$/m);
    expect(text).not.toMatch(JSON_READY);
    expect(raw).toContain('\x1b[32mINFO');
  });

  it('an error keeps its stack, indented under its line', async () => {
    const { code, text } = await onTerminal({ ...env('DEVELOP'), CLI_FIXTURE_FAIL: '1' });
    expect(code).toBe(1);
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR {4}cli_fixture failed to start: cli_fixture failed/m);
    expect(text).toMatch(/^ {4}LifecycleError: cli_fixture failed to start/m);
    expect(text).toMatch(/^ {4}\s*at \S+ \(.*lifecycle\/errors\.ts:\d+:\d+\)$/m);
  });

  it('PRODUCTION and TESTING write JSON lines even on a terminal, even with format: pretty', async () => {
    const [production, testing] = await Promise.all([
      onTerminal(env('PRODUCTION')),
      onTerminal(env('TESTING', 'pretty')),
    ]);
    for (const { code, text } of [production, testing]) {
      expect(code).toBe(0);
      expect(text).toMatch(JSON_READY);
      expect(text).not.toMatch(PRETTY_READY);
    }
  });

  it('DEVELOP without a terminal writes JSON lines; format: pretty makes them readable, without colour', async () => {
    const [piped, forced, json] = await Promise.all([
      keel(['run', SERVICE], env('DEVELOP')),
      keel(['run', SERVICE], env('DEVELOP', 'pretty')),
      onTerminal(env('DEVELOP', 'json')),
    ]);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(JSON_READY);
    expect(forced.stdout).toMatch(PRETTY_READY);
    expect(forced.stdout).not.toContain('\x1b[');
    expect(json.text).toMatch(JSON_READY);
  });
});

describe('before the settings are valid, on a terminal with DEVELOP from the settings file', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'keel-boot-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  /** Runs the fixture with `yaml` as its settings file, as `keel new`'s config/development.yaml is. */
  function withFile(name: string, yaml: string, extra: NodeJS.ProcessEnv = {}) {
    const file = path.join(folder, name);
    writeFileSync(file, yaml);
    return onTerminal({ CLI_FIXTURE_STOP: '1', KEEL_CONFIG_FILE: file, ...extra });
  }

  const INVALID = 'system:\n  logging: { profile: DEVELOP }\n  lifecycle: { hook_timeout_ms: -1 }\n';

  it('a boot error is readable: the text of the JSON err.message, unescaped, not a JSON line', async () => {
    const [pretty, json] = await Promise.all([
      withFile('invalid.yaml', INVALID),
      withFile('invalid.yaml', INVALID, { KEEL__SYSTEM__LOGGING__FORMAT: 'json' }),
    ]);
    expect(pretty.code).toBe(1);
    expect(json.code).toBe(1);
    const record = json.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; err?: { message: string } })
      .find((entry) => entry.msg.startsWith('failed to start'))!;
    expect(record.err!.message).toContain('\n');
    expect(record.err!.message).toContain('system.lifecycle.hook_timeout_ms');
    expect(pretty.text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} ERROR {4}cli_fixture failed to start: /m);
    expect(pretty.text).toContain(record.err!.message);
    expect(pretty.text).not.toMatch(/^\{"name"/m);
    expect(pretty.text).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {5}cli_fixture Settings file .*invalid\.yaml loaded \(KEEL_CONFIG_FILE\)$/m,
    );
  });

  it('the settings file line and the unknown-key warning are readable too', async () => {
    const result = await withFile(
      'unknown.yaml',
      'system:\n  logging: { profile: DEVELOP }\n  resources: { report_server: { port: 0 }, report_srever: { port: 1 } }\n',
    );
    expect(result.code).toBe(0);
    expect(result.text).not.toMatch(/^\{"name"/m);
    expect(result.text).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {5}cli_fixture Settings file .*unknown\.yaml loaded/m,
    );
    expect(result.text).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARNING {2}cli_fixture Unknown settings keys, ignored .*\n.*system\.resources\.report_srever/m,
    );
    expect(result.text).toMatch(PRETTY_READY);
  });
});
