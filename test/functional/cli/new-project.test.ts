import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packKeel } from '../../support/pack';
import { exec, keel } from './cli';

// npm install of a fresh project dominates: minutes on a loaded machine with a cold cache.
jest.setTimeout(900_000);

const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund'];

/** Wall time of one step, printed for the CI log (what the project's note reports); never asserted. */
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const began = performance.now();
  try {
    return await work();
  } finally {
    process.stdout.write(
      `keel new end to end: ${label} took ${((performance.now() - began) / 1000).toFixed(1)} s\n`,
    );
  }
}

describe('keel new, end to end with the packed Keel', () => {
  let root: string;
  let project: string;

  beforeAll(async () => {
    const tarball = await timed('npm pack', packKeel);
    root = mkdtempSync(path.join(tmpdir(), 'keel-new-'));
    project = path.join(root, 'shop-api');
    const created = await keel(['new', project, '--keel', tarball]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('created shop_api');
    const manifest = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ keel: `file:${tarball}` });
    const installed = await timed('npm install', () =>
      exec('npm', NPM_INSTALL, { cwd: project, timeoutMs: 600_000 }),
    );
    expect(installed.stderr).not.toMatch(/npm error/);
    expect(installed.code).toBe(0);
  });

  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('passes its own npm test (type-check, then its node:test file with an overridden resource)', async () => {
    const tested = await timed('npm test', () => exec('npm', ['test'], { cwd: project, timeoutMs: 300_000 }));
    // node:test's summary: TAP (`# pass 2`) on Node 20 off a terminal, its spec reporter (`ℹ pass 2`) from 22.
    expect(tested.stdout).toMatch(/^(#|ℹ) pass 2$/m);
    expect(tested.stdout).toMatch(/^(#|ℹ) fail 0$/m);
    expect(tested.code).toBe(0);
  });

  it('npm run build && npm start serves /health/ready 200, and SIGTERM to the service exits 0', async () => {
    const built = await exec('npm', ['run', 'build'], { cwd: project, timeoutMs: 300_000 });
    expect(built.code).toBe(0);
    const started = spawn('npm', ['start'], {
      cwd: project,
      env: {
        ...process.env,
        KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
        KEEL__SYSTEM__RESOURCES__HTTP__PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => started.once('close', (code) => resolve(code)));
    try {
      await until(() => /ready in/.test(output) || started.exitCode !== null, 60_000);
      const reportLine = /"pid":(\d+)[^\n]*report server on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      expect(reportLine).not.toBeNull();
      const [, pid, port] = reportLine!;
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      // The service itself, as a container runtime signals it: npm does not pass SIGTERM on.
      process.kill(Number(pid), 'SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toMatch(/greeter stopped/);
      expect(output).toMatch(/shop_api stopped in/);
    } finally {
      if (started.exitCode === null) started.kill('SIGKILL');
    }
  });

  it('the installed keel command runs from its compiled files: graph through the project loader (a clear error without it), new from the shipped templates', async () => {
    const bin = path.join(project, 'node_modules', '.bin', 'keel');
    const graph = await exec(bin, ['graph', 'src/service.ts'], { cwd: project });
    expect(graph).toMatchObject({ code: 0, stderr: '' });
    expect(graph.stdout).toMatch(/^shop_api \(ShopApiService\)\n/);
    expect(graph.stdout).toMatch(/greeter \(Greeter\)/);
    // Without the loader, a .ts file is a one-line error naming the package to install.
    const loader = path.join(project, 'node_modules', '@swc-node');
    renameSync(loader, `${loader}.hidden`);
    try {
      const noLoader = await exec(bin, ['graph', 'src/service.ts'], { cwd: project });
      expect(noLoader).toMatchObject({ code: 1, stdout: '' });
      expect(noLoader.stderr).toMatch(
        /^keel: src\/service\.ts is TypeScript and no TypeScript loader is installed: npm install --save-dev @swc-node\/register/,
      );
    } finally {
      renameSync(`${loader}.hidden`, loader);
    }
    const second = await exec(bin, ['new', path.join(root, 'second'), '--name', 'second_service'], {
      cwd: root,
    });
    expect(second.code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(root, 'second', 'package.json'), 'utf8'));
    expect(manifest.dependencies.keel).toMatch(/^\^\d+\.\d+\.\d+/);
    expect(readFileSync(path.join(root, 'second', 'src', 'service.ts'), 'utf8')).toContain(
      "name: 'second_service'",
    );
  });
});

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
