import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { packKeel } from '../../support/pack';
import { PROJECT_ROOT } from '../../support/process';
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
  let tarball: string;

  beforeAll(async () => {
    tarball = await timed('npm pack', packKeel);
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
    expect(second).toMatchObject({ code: 0, stderr: '' });
    // Installed from a tarball: the new project asks for the same tarball, which npm can resolve.
    const manifest = JSON.parse(readFileSync(path.join(root, 'second', 'package.json'), 'utf8'));
    expect(manifest.dependencies.keel).toBe(`file:${tarball}`);
    expect(readFileSync(path.join(root, 'second', 'src', 'service.ts'), 'utf8')).toContain(
      "name: 'second_service'",
    );
  });
});

describe('keel new before Keel is installed: npx with the tarball, as the README shows', () => {
  it('npx --package <tarball> keel new writes a project whose dependency is that tarball', async () => {
    const tarball = await packKeel();
    const root = mkdtempSync(path.join(tmpdir(), 'keel-npx-'));
    try {
      const made = await exec(
        'npx',
        ['--yes', '--prefer-offline', '--package', tarball, 'keel', 'new', 'billing-api'],
        {
          cwd: root,
          timeoutMs: 300_000,
        },
      );
      expect(made).toMatchObject({ code: 0, stderr: '' });
      expect(made.stdout).toContain('created billing_api in billing-api');
      const manifest = JSON.parse(readFileSync(path.join(root, 'billing-api', 'package.json'), 'utf8'));
      expect(manifest.dependencies).toEqual({ keel: `file:${tarball}` });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describeWithEtcd(
  "Keel's checkout once dist/ exists, and the installed keel, on the README's commands",
  () => {
    let cluster: EtcdCluster;
    const etcdEnv = (): NodeJS.ProcessEnv => ({
      KEEL_ETCD_HOSTS: cluster.hosts,
      KEEL_ETCD_PREFIX: 'readme/',
    });

    beforeAll(async () => {
      await packKeel();
      cluster = await EtcdCluster.start(1);
    });
    afterAll(() => cluster?.stop());

    it('npm run keel -- graph and settings push --service on the samples use one copy of Keel, with dist/ built', async () => {
      // The pack's prepack build made dist/; bin/keel.js preferred it while the samples import ../../lib.
      expect(existsSync(path.join(PROJECT_ROOT, 'dist', 'lib', 'cli', 'main.js'))).toBe(true);
      const bin = path.join(PROJECT_ROOT, 'bin', 'keel.js');
      const [graph, mainGraph, push] = await Promise.all([
        exec(process.execPath, [bin, 'graph', 'samples/hello/service.ts']),
        exec(process.execPath, [bin, 'graph', 'samples/hello/main.ts']),
        exec(
          process.execPath,
          [
            bin,
            'settings',
            'push',
            'samples/settings-etcd/settings.yml',
            '--service',
            'samples/settings-etcd/service.ts',
            '--dry-run',
          ],
          { env: etcdEnv() },
        ),
      ]);
      expect(graph).toMatchObject({ code: 0, stderr: '' });
      expect(graph.stdout).toMatch(/^hello \(HelloService\)\n├── greeter \(Greeter\)/);
      // A main.ts that calls run() is drawn, not started.
      expect(mainGraph).toEqual(graph);
      expect(push).toMatchObject({ code: 0, stderr: '' });
      expect(push.stdout).toContain('+ readme/system/resources/announcer/api_token = [redacted]\n');
      expect(push.stdout).toContain('dry run: would write 5 keys');
    });

    it('the installed keel loads a TypeScript --service, given once per service', async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'keel-push-'));
      try {
        const project = path.join(root, 'push-api');
        expect((await keel(['new', project, '--keel', await packKeel()])).code).toBe(0);
        // etcd3 is an optional peer: a project that pushes settings installs it.
        const installed = await exec('npm', [...NPM_INSTALL, `etcd3@${devDependency('etcd3')}`], {
          cwd: project,
          timeoutMs: 600_000,
        });
        expect(installed.code).toBe(0);
        const bin = path.join(project, 'node_modules', '.bin', 'keel');
        const file = path.join(root, 'settings.yml');
        writeFileSync(file, 'system:\n  resources:\n    greeter:\n      greeting: Howdy\n');
        const push = await exec(
          bin,
          ['settings', 'push', file, '--service', 'src/service.ts', '--service', 'src/service.ts'],
          { cwd: project, env: etcdEnv() },
        );
        expect(push).toMatchObject({ code: 0, stderr: '' });
        expect(push.stdout).toContain('+ readme/system/resources/greeter/greeting = "Howdy"\n');
        writeFileSync(file, 'system:\n  resources:\n    greeter:\n      greeting: 7\n');
        const refused = await exec(bin, ['settings', 'push', file, '--service', 'src/service.ts'], {
          cwd: project,
          env: etcdEnv(),
        });
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(
          'the settings of service "push_api" would be invalid; nothing was written',
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  },
);

function devDependency(name: string): string {
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return manifest.devDependencies[name];
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
