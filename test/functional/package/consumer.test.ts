import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packKeel } from '../../support/pack';
import { describeWithPostgres, PostgresServer } from '../../support/postgres';
import { killAll, PROJECT_ROOT, spawnNode, type ServiceProcess } from '../../support/process';
import { RedisServer } from '../../support/redis';
import { readmeBlocks, writeReadmeBlocks } from './readme-blocks';

// A user's project, as the README builds it: Keel's packed tarball and TypeScript from npm, `tsc`
// under each module setting a project may use, the project's jest tests, `node` on the output.
// One project and one `npm install` for the whole file.

jest.setTimeout(600_000);

const run = promisify(execFile);
const FIXTURE = path.join(__dirname, 'consumer');
/** TypeScript 7 removed moduleResolution node10: 5.9 covers the projects that still use it. */
const TYPESCRIPT_5 = 'typescript@~5.9.3';
const TYPESCRIPT = `typescript@${/(\d+)\.\d+\.\d+/.exec(readDevDependency('tsgo'))![1]}`;
const FREE_PORTS = {
  KEEL__SYSTEM__RESOURCES__HTTP__PORT: '0',
  KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
};

let project: string;
let tarball: string;
const processes: ServiceProcess[] = [];

/** What the test reads of Keel's package.json. */
interface KeelManifest {
  exports: Record<string, string | Record<string, { types: string }>>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
}

function readDevDependency(name: string): string {
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return manifest.devDependencies[name];
}

async function tsc(typescript: 'typescript' | 'ts5', config: string): Promise<void> {
  const bin = path.join(project, 'node_modules', typescript, 'bin', 'tsc');
  try {
    await run(process.execPath, [bin, '-p', config], { cwd: project });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    throw new Error(`tsc -p ${config} (${typescript}) failed:\n${stdout}${stderr}`);
  }
}

/** `strict`, `skipLibCheck: false`: every declaration of Keel and of what it pulls in is checked. */
function writeConfig(name: string, compilerOptions: Record<string, unknown>, include: string[]): void {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      strict: true,
      skipLibCheck: false,
      esModuleInterop: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      types: ['node', 'jest'],
      rootDir: 'src',
      noEmit: true,
      ...compilerOptions,
    },
    include,
  };
  writeFileSync(path.join(project, name), JSON.stringify(config, null, 2));
}

beforeAll(async () => {
  tarball = await packKeel();
  project = mkdtempSync(path.join(tmpdir(), 'keel-consumer-'));
  cpSync(FIXTURE, project, { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarball,
      TYPESCRIPT,
      `ts5@npm:${TYPESCRIPT_5}`,
      `@sinclair/typebox@${readDevDependency('@sinclair/typebox')}`,
      '@types/jest@30',
      // The optional peers the README's PostgreSQL, Redis and WebSocket examples run on.
      `pg@${readDevDependency('pg')}`,
      `ioredis@${readDevDependency('ioredis')}`,
      `ws@${readDevDependency('ws')}`,
    ],
    { cwd: project, maxBuffer: 16 * 1024 * 1024 },
  );
  const commonjs = ['src/**/*.ts'];
  const all = ['src/**/*.ts', 'src/**/*.mts'];
  writeConfig('tsconfig.node10.json', { module: 'commonjs', moduleResolution: 'node10' }, commonjs);
  // Keel's declarations must not depend on the consumer's interop flags (TypeScript 7 removed the
  // false setting; 5.9 still has it).
  writeConfig(
    'tsconfig.no-interop.json',
    {
      module: 'commonjs',
      moduleResolution: 'node10',
      esModuleInterop: false,
      allowSyntheticDefaultImports: false,
    },
    commonjs,
  );
  writeConfig('tsconfig.commonjs.json', { module: 'commonjs' }, commonjs);
  writeConfig('tsconfig.node16.json', { module: 'node16' }, all);
  writeConfig('tsconfig.bundler.json', { module: 'esnext', moduleResolution: 'bundler' }, all);
  writeConfig('tsconfig.json', { module: 'nodenext', noEmit: false, outDir: 'dist' }, all);
  writeReadmeBlocks(project, readmeBlocks());
  writeConfig(
    'tsconfig.readme.json',
    { module: 'nodenext', noEmit: false, rootDir: 'readme', outDir: 'readme-dist' },
    ['readme/**/*.ts'],
  );
});

afterAll(() => {
  killAll(processes);
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('Keel installed from its tarball in a new project', () => {
  it('packs dist with declarations, bin, README, LICENSE and package.json only', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    const outside = files.filter(
      (file) =>
        !/^package\/(dist\/lib\/.*\.(js|d\.ts)|dist\/(index|testing)\.(mjs|d\.mts)|bin\/keel\.js|README\.md|LICENSE|package\.json)$/.test(
          file,
        ),
    );
    expect(outside).toEqual([]);
    expect(files).toContain('package/dist/lib/index.d.ts');
  });

  it.each([
    ['"module": "commonjs", moduleResolution node10', 'ts5', 'tsconfig.node10.json'],
    ['"module": "commonjs" without esModuleInterop', 'ts5', 'tsconfig.no-interop.json'],
    ['"module": "commonjs" (resolution bundler in TypeScript 7)', 'typescript', 'tsconfig.commonjs.json'],
    ['"module": "node16"', 'typescript', 'tsconfig.node16.json'],
    ['"module": "esnext", moduleResolution bundler', 'typescript', 'tsconfig.bundler.json'],
    ['"module": "nodenext"', 'typescript', 'tsconfig.json'],
  ] as const)(
    'type-checks under %s, strict, skipLibCheck false, types not any',
    async (_, typescript, config) => {
      await tsc(typescript, config);
    },
  );

  // etcd3's types were once named in Keel's declarations: a project without etcd3 failed to compile.
  it("reaches no optional peer's declarations from Keel's entry points (a project without them type-checks)", async () => {
    const keel = path.join(project, 'node_modules', 'keel');
    const manifest = JSON.parse(readFileSync(path.join(keel, 'package.json'), 'utf8')) as KeelManifest;
    const entries = Object.values(manifest.exports).flatMap((entry) =>
      typeof entry === 'string'
        ? []
        : Object.values(entry).map((conditions) => path.join(keel, conditions.types)),
    );
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const config = {
      compilerOptions: {
        target: 'ES2022',
        strict: true,
        skipLibCheck: false,
        experimentalDecorators: true,
        module: 'nodenext',
        types: ['node'],
        noEmit: true,
      },
      files: entries,
    };
    writeFileSync(path.join(project, 'tsconfig.entries.json'), JSON.stringify(config, null, 2));
    const bin = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout } = await run(process.execPath, [bin, '-p', 'tsconfig.entries.json', '--listFiles'], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`tsc on Keel's entry points failed:\n${error.stdout}${error.stderr}`);
    });
    const peers = Object.keys(manifest.peerDependenciesMeta).filter(
      (name) => manifest.peerDependenciesMeta[name].optional,
    );
    // pg, ioredis and ws are installed here (the README's examples), so a reach would be listed.
    expect(peers).toEqual(expect.arrayContaining(['pg', 'ioredis', 'ws', 'etcd3']));
    const reached = stdout
      .split('\n')
      .filter((file) =>
        peers.some(
          (peer) => file.includes(`/node_modules/${peer}/`) || file.includes(`/node_modules/@types/${peer}/`),
        ),
      );
    expect(reached).toEqual([]);
  });

  it("runs the project's jest tests on the compiled output", async () => {
    const jest = path.join(PROJECT_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const result = await run(process.execPath, [jest, '--ci', '--rootDir', project], {
      cwd: project,
      env: { ...process.env, FORCE_COLOR: '0' },
    }).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`the consumer's jest failed:\n${error.stdout}${error.stderr}`);
    });
    expect(result.stderr).toMatch(/Tests:\s+5 passed, 5 total/);
    // The kit's quiet logs: no record of the fleet's apps reached the output.
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/"service_name":"(inventory|notifier)"/);
  });

  // TAP on every Node: 20 prints it when stdout is not a terminal, 23 and later print spec lines.
  it('runs the same kit under node --test', async () => {
    const result = await run(process.execPath, ['--test', '--test-reporter=tap', 'dist/fleet.node-test.js'], {
      cwd: project,
    }).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`node --test failed:\n${error.stdout}${error.stderr}`);
    });
    expect(result.stdout).toMatch(/^# pass 1$/m);
    expect(result.stdout).toMatch(/^# fail 0$/m);
  });

  it('runs the compiled service with node, serves a route, exits 0 on SIGTERM', async () => {
    const service = spawnNode(['dist/main.js'], project, FREE_PORTS);
    processes.push(service);
    const output = await service.waitFor(/http server 'http' listening on http:\/\/127\.0\.0\.1:\d+/);
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1];
    const response = await fetch(`http://127.0.0.1:${port}/greet/ann`);
    expect(await response.json()).toEqual({ text: 'Hello, ann.' });
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });

  it('loads as an ES module, the same copy of Keel as require() gets', async () => {
    const { stdout } = await run(process.execPath, ['dist/esm.mjs'], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      paramIsString: true,
      sameClass: true,
      sameKit: true,
      started: 'STARTED',
    });
  });

  it('names the package to install when KEEL_ETCD_HOSTS is set without etcd3', async () => {
    const service = spawnNode(['dist/main.js'], project, { ...FREE_PORTS, KEEL_ETCD_HOSTS: '127.0.0.1:1' });
    processes.push(service);
    expect((await service.exited).code).toBe(1);
    expect(service.output()).toContain('run `npm install etcd3`');
  });
});

describe('the README examples, against the packed package', () => {
  it('type-check, every TypeScript block of README.md and of the samples', async () => {
    expect(readmeBlocks().length).toBeGreaterThan(5);
    await tsc('typescript', 'tsconfig.readme.json');
  });

  it("runs the testing section's tests with jest and with node --test", async () => {
    const jest = path.join(PROJECT_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    writeFileSync(
      path.join(project, 'readme-jest.config.js'),
      "module.exports = { testEnvironment: 'node', roots: ['<rootDir>/readme-dist'], testMatch: ['**/*.test.js'], transform: {} };\n",
    );
    const failed = (runner: string) => (error: { stdout: string; stderr: string }) => {
      throw new Error(`${runner} on the README's tests failed:\n${error.stdout}${error.stderr}`);
    };
    const env = { ...process.env, FORCE_COLOR: '0', NODE_ENV: 'test' };
    const jestRun = await run(
      process.execPath,
      [jest, '--ci', '--rootDir', project, '--config', 'readme-jest.config.js'],
      { cwd: project, env },
    ).catch(failed('jest'));
    expect(jestRun.stderr).toMatch(/Tests:\s+3 passed, 3 total/);
    const nodeRun = await run(
      process.execPath,
      ['--test', '--test-reporter=tap', 'readme-dist/root/fleet.node-test.js'],
      {
        cwd: project,
        env,
      },
    ).catch(failed('node --test'));
    expect(nodeRun.stdout).toMatch(/^# pass 1$/m);
  });

  it.each(
    readmeBlocks()
      .filter((block) => block.runnable)
      .map((block) => [block.title, block] as const),
  )('runs %s: starts, and exits 0 on SIGTERM', async (_, block) => {
    const service = spawnNode(
      [path.join('readme-dist', block.file.replace(/\.ts$/, '.js'))],
      project,
      FREE_PORTS,
    );
    processes.push(service);
    await service.waitFor(/ ready in [\d.]+ ms/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(service.output()).not.toMatch(/"level":50/);
  });

  it("serves the README's Contracts example: a valid order placed, an invalid one refused with every problem", async () => {
    const block = readmeBlocks().find((candidate) => path.basename(candidate.file) === 'contracts.ts');
    expect(block).toBeDefined();
    const service = spawnNode(
      [path.join('readme-dist', block!.file.replace(/\.ts$/, '.js'))],
      project,
      FREE_PORTS,
    );
    processes.push(service);
    const output = await service.waitFor(/http server 'http' listening on http:\/\/127\.0\.0\.1:\d+/);
    const base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]}`;
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const placed = await post('/shops/7/orders', { sku: 'ab-1', qty: 2 });
    expect({ status: placed.status, body: await placed.json() }).toEqual({
      status: 201,
      body: { id: 1, sku: 'ab-1', qty: 2 },
    });
    const dryRun = await post('/shops/7/orders?dry_run=true', { sku: 'ab-1', qty: 2 });
    expect({ status: dryRun.status, body: await dryRun.json() }).toEqual({
      status: 409,
      body: { error: 'dry run' },
    });
    const refused = await post('/shops/seven/orders', { sku: '', qty: 500 });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = JSON.stringify(await refused.json());
    for (const pointer of ['/shop', '/sku', '/qty']) expect(problem).toContain(pointer);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });
});

/** Runs a README example's compiled module with `check`, a CommonJS script of the test's; its last line is JSON. */
async function runExample(check: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  const file = path.join(project, 'readme-dist', `check-${process.pid}-${Date.now()}.js`);
  writeFileSync(file, check);
  const { stdout } = await run(process.execPath, [file], {
    cwd: project,
    env: { ...process.env, ...env },
  }).catch((error: { stdout: string; stderr: string }) => {
    throw new Error(`the example failed:\n${error.stdout}${error.stderr}`);
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const QUIET = '{ logging: { stdout: false }, resources: { report_server: { port: 0 }';

describe('the README cron example, run', () => {
  it('Digest: a two-second schedule on a ManualClock runs twice in four seconds of its time', async () => {
    const result = await runExample(
      `const { twoTicks } = require('./root/cron-clock.js');
twoTicks().then((sent) => console.log(JSON.stringify({ sent })));
`,
      {},
    );
    expect(result).toEqual({ sent: ['2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z'] });
  });
});

describe('the README WebSocket example, run', () => {
  it('Rooms: members hear what is said in their room; an upgrade without the token gets 401', async () => {
    const result = await runExample(
      `const WebSocket = require('ws');
const { createMicroservice, HttpServerResource } = require('keel');
const { Chat } = require('./root/websocket.js');
const member = (url) => new Promise((resolve, reject) => {
  const client = new WebSocket(url, { headers: { authorization: 'Bearer member' } });
  client.once('open', () => resolve(client));
  client.once('error', reject);
});
const heard = (client) => new Promise((resolve) => client.once('message', (data) => resolve(JSON.parse(String(data)))));
(async () => {
  const app = await createMicroservice(Chat, { settings: { system: ${QUIET}, http: { port: 0 } } } } });
  await app.start();
  const base = 'ws://127.0.0.1:' + app.get(HttpServerResource).address().port;
  const [ann, bob, eve] = await Promise.all([member(base + '/rooms/blue'), member(base + '/rooms/blue'), member(base + '/rooms/red')]);
  let eveHeard = false;
  eve.on('message', () => (eveHeard = true));
  const hearing = [heard(ann), heard(bob)];
  ann.send(JSON.stringify({ text: 'hi' }));
  const messages = await Promise.all(hearing);
  const refused = await new Promise((resolve) => {
    const stranger = new WebSocket(base + '/rooms/blue');
    stranger.once('unexpected-response', (_request, response) => resolve(response.statusCode));
  });
  const closes = [ann, bob, eve].map((client) => new Promise((resolve) => client.once('close', (code) => resolve(code))));
  await app.stop();
  console.log(JSON.stringify({ messages, eveHeard, refused, closes: await Promise.all(closes) }));
})();
`,
      {},
    );
    expect(result).toEqual({
      messages: [
        { room: 'blue', text: 'hi' },
        { room: 'blue', text: 'hi' },
      ],
      eveHeard: false,
      refused: 401,
      closes: [1001, 1001, 1001],
    });
  });
});

describeWithPostgres('the README PostgreSQL and Redis examples, run on real servers', () => {
  it('PostgreSQL: Accounts opens, lists and transfers; an overdraft rolls back', async () => {
    // readme-dist is what the README's type-check above compiled.
    const server = await PostgresServer.start();
    try {
      const result = await runExample(
        `const { createMicroservice, PostgresResource } = require('keel');
const { Accounts, Bank } = require('./root/postgres.js');
(async () => {
  const app = await createMicroservice(Bank, { settings: { system: ${QUIET}, postgres: { url: process.env.PG_URL } } } } });
  await app.start();
  await app.get(PostgresResource).query('CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL)');
  const accounts = app.get(Accounts);
  const opened = [await accounts.open(1, 'ann'), await accounts.open(2, 'bob'), await accounts.open(1, 'eve')];
  await app.get(PostgresResource).query('UPDATE accounts SET balance = 100 WHERE id = 1');
  await accounts.transfer(1, 2, 30);
  const overdraft = await accounts.transfer(1, 2, 500).catch((error) => error.message);
  const balances = [...(await accounts.byOwner('ann')), ...(await accounts.byOwner('bob'))];
  await app.stop();
  console.log(JSON.stringify({ opened, overdraft, balances }));
})();
`,
        { PG_URL: server.url },
      );
      expect(result).toEqual({
        opened: ['opened', 'opened', 'exists'],
        overdraft: 'account 1 cannot pay 500',
        balances: [
          { id: 1, owner: 'ann', balance: 70 },
          { id: 2, owner: 'bob', balance: 30 },
        ],
      });
    } finally {
      await server.stop();
    }
  });

  it('Redis: the rate limiter lets two calls a minute through, not a third', async () => {
    const server = await RedisServer.start();
    try {
      const result = await runExample(
        `const { createMicroservice } = require('keel');
const { Gateway, RateLimiter } = require('./root/redis.js');
(async () => {
  const app = await createMicroservice(Gateway, { settings: { system: ${QUIET}, redis: { url: process.env.REDIS_URL, command_timeout_ms: 200, affects_readiness: false } } } } });
  await app.start();
  const limiter = app.get(RateLimiter);
  let allowed;
  // Its window is the clock's minute: three calls that straddle a minute's end are tried again.
  for (let attempt = 0; ; attempt++) {
    const minute = Math.floor(Date.now() / 60_000);
    allowed = [];
    for (let i = 0; i < 3; i++) allowed.push(await limiter.allow('ann' + attempt, 2));
    if (Math.floor(Date.now() / 60_000) === minute) break;
  }
  await app.stop();
  console.log(JSON.stringify({ allowed }));
})();
`,
        { REDIS_URL: server.url },
      );
      expect(result).toEqual({ allowed: [true, true, false] });
    } finally {
      await server.stop();
    }
  });
});
