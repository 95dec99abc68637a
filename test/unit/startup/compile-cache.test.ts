import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import nodeModule from 'node:module';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const nodeHasCache = 'enableCompileCache' in nodeModule;

// Node reads these even when empty; a test sets them itself.
const OWN_VARIABLES = ['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE'];
const inheritedEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !OWN_VARIABLES.includes(name)),
);

/** A fresh process that loads Keel from its entry, as a service's main.ts does; what it reports. */
function loadKeel(env: NodeJS.ProcessEnv): { enabled: boolean; directory?: string; reason?: string } {
  const output = execFileSync(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      '-e',
      "process.stdout.write(JSON.stringify(require('./lib').enableCompileCache()))",
    ],
    {
      cwd: ROOT,
      env: { ...inheritedEnv, ...env },
      encoding: 'utf8',
    },
  );
  return JSON.parse(output) as { enabled: boolean; directory?: string; reason?: string };
}

describe('the module compile cache', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'keel-compile-cache-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is left alone by loading Keel: the process is its own', () => {
    const directory = path.join(scratch, 'import');
    const output = execFileSync(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        '-e',
        "require('./lib'); process.stdout.write(String(require('node:module').getCompileCacheDir?.()))",
      ],
      { cwd: ROOT, env: { ...inheritedEnv, KEEL_COMPILE_CACHE: directory }, encoding: 'utf8' },
    );
    expect(output).toBe('undefined');
    expect(existsSync(directory)).toBe(false);
  });

  it(`is ${nodeHasCache ? 'filled' : 'left alone'} by run(), in the directory KEEL_COMPILE_CACHE names`, () => {
    const directory = path.join(scratch, 'run');
    const fixture = path.join(ROOT, 'test', 'functional', 'lifecycle', 'fixtures', 'start-fails.ts');
    try {
      execFileSync(process.execPath, ['-r', '@swc-node/register', fixture], {
        cwd: ROOT,
        env: { ...inheritedEnv, KEEL_COMPILE_CACHE: directory },
        stdio: 'ignore',
      });
    } catch {
      // The fixture's start fails on purpose: run() exits 1.
    }
    expect(existsSync(directory) && readdirSync(directory).length > 0).toBe(nodeHasCache);
  });

  it(`is ${nodeHasCache ? 'on' : 'absent'} on Node ${process.versions.node} once enableCompileCache() is called, in the directory KEEL_COMPILE_CACHE names`, () => {
    const directory = path.join(scratch, 'set');
    const state = loadKeel({ KEEL_COMPILE_CACHE: directory });
    if (nodeHasCache) {
      expect(state).toEqual({ enabled: true, directory: expect.stringContaining(directory) });
      // Written when the process exits: Keel's modules and those it loaded after them.
      expect(readdirSync(directory).length).toBeGreaterThan(0);
    } else {
      expect(state).toEqual({
        enabled: false,
        reason: `Node ${process.versions.node} has no module compile cache (22.1+)`,
      });
      expect(existsSync(directory)).toBe(false);
    }
  });

  it(`is ${nodeHasCache ? 'filled' : 'left alone'} by the keel command`, () => {
    const directory = path.join(scratch, 'command');
    execFileSync(process.execPath, [path.join(ROOT, 'bin', 'keel.js'), '--help'], {
      cwd: ROOT,
      env: { ...inheritedEnv, KEEL_COMPILE_CACHE: directory },
      stdio: 'ignore',
    });
    expect(existsSync(directory) && readdirSync(directory).length > 0).toBe(nodeHasCache);
  });

  it('stays off with KEEL_COMPILE_CACHE=off or NODE_DISABLE_COMPILE_CACHE=1', () => {
    expect(loadKeel({ KEEL_COMPILE_CACHE: 'off' })).toEqual({
      enabled: false,
      reason: 'KEEL_COMPILE_CACHE is off',
    });
    const directory = path.join(scratch, 'disabled');
    const state = loadKeel({ KEEL_COMPILE_CACHE: directory, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(state.enabled).toBe(false);
    expect(existsSync(directory)).toBe(false);
  });
});
