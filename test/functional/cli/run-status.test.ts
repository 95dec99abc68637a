import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killAll, PROJECT_ROOT, spawnNode, type ServiceProcess } from '../../support/process';
import { CLI_ENTRY, FIXTURES, keel, startKeel } from './cli';

jest.setTimeout(120_000);

const SERVICE = path.join(FIXTURES, 'service.ts');
const FREE_REPORT_PORT = { KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0' };
const started: ServiceProcess[] = [];

afterEach(() => killAll(started.splice(0)));

function start(args: string[], env: NodeJS.ProcessEnv = {}): ServiceProcess {
  const service = startKeel(args, { ...FREE_REPORT_PORT, ...env });
  started.push(service);
  return service;
}

/** Every report server port the output announced, in order (from the JSON records, not their echo). */
function reportPorts(output: string): number[] {
  return [...output.matchAll(/"msg":"report server on http:\/\/127\.0\.0\.1:(\d+)"/g)].map((match) =>
    Number(match[1]),
  );
}

describe('keel run', () => {
  it('runs the exported microservice as run() does: SIGTERM stops it gracefully, exit 0', async () => {
    const service = start(['run', SERVICE]);
    await service.waitFor(/cli_fixture ready in/);
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    expect(service.output()).toMatch(/marker stop hook ran[\s\S]*cli_fixture stopped in/);
  });

  it('on a main.ts that calls run() itself, lets that run own the process: one start, exit 0 on SIGTERM', async () => {
    const services = ['main-calls-run.ts', 'exports-and-runs.ts'].map((file) =>
      start(['run', path.join(FIXTURES, file)]),
    );
    for (const service of services) {
      await service.waitFor(/cli_fixture ready in/);
      service.child.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
      const output = service.output();
      expect(output).not.toContain('exports no microservice');
      expect(output.match(/"msg":"marker started"/g)).toHaveLength(1);
      expect(output).toMatch(/marker stop hook ran[\s\S]*cli_fixture stopped in/);
    }
  });

  it('exits 1 when the service fails to start, and when the graph is broken', async () => {
    const failing = start(['run', SERVICE], { CLI_FIXTURE_FAIL: '1' });
    const broken = start(['run', path.join(FIXTURES, 'broken.ts')]);
    expect((await failing.exited).code).toBe(1);
    expect(failing.output()).toContain(
      "failed to start: cli_fixture failed to start: resource 'marker' failed in start",
    );
    expect((await broken.exited).code).toBe(1);
    expect(broken.output()).toContain('broken → repository → Pool: no provider for Pool');
  });
});

describe('keel status', () => {
  it('prints the resources and the startup waterfall of a running service; --json the raw document', async () => {
    const service = start(['run', SERVICE]);
    await service.waitFor(/cli_fixture ready in/);
    const [port] = reportPorts(service.output());
    const url = `http://127.0.0.1:${port}`;
    const [shown, json] = await Promise.all([
      keel(['status', '--url', url]),
      keel(['status', '--url', url, '--json']),
    ]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    const lines = shown.stdout.split('\n');
    expect(lines[0]).toMatch(/^cli_fixture {2}running {2}version \d+\.\d+\.\d+/);
    expect(lines).toContainEqual(expect.stringMatching(/^RESOURCE +STATUS +TEXT$/));
    expect(lines).toContainEqual(expect.stringMatching(/^marker +STARTED$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^startup waterfall, [\d.]+ ms {2}\(░ preStart {2}█ start {2}▒ postStart\)$/),
    );
    // One bar per resource, 40 cells between pipes, then each phase's offset+duration.
    expect(lines).toContainEqual(
      expect.stringMatching(/^marker +\|[ ░█▒]{40}\| {2}start [\d.]+\+[\d.]+ {2}postStart [\d.]+\+[\d.]+$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^report_server +\|[ █]*█[ █]*\| {2}start [\d.]+\+[\d.]+$/),
    );
    expect(json.code).toBe(0);
    const document = JSON.parse(json.stdout);
    expect(document).toMatchObject({ service: 'cli_fixture', state: 'running' });
    expect(document.resources.map((row: { name: string }) => row.name)).toContain('marker');
    service.child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
  });

  it('an unreachable service is a one-line error naming the URL, exit 1', async () => {
    const port = await closedPort();
    const result = await keel(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `keel: cannot reach http://127.0.0.1:${port}/status: ECONNREFUSED\n`,
    });
  });
});

describe('keel status against a server that is not a Keel report server', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((server) => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      }),
    );
  });

  async function serve(
    handler: (request: IncomingMessage, response: ServerResponse) => void,
  ): Promise<string> {
    const server = createHttpServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const json = (body: unknown) => (_: IncomingMessage, response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  it('stops reading a body past 4 MiB instead of reading it whole', async () => {
    let sent = 0;
    const url = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const write = () => {
        while (!response.destroyed && response.write(chunk)) sent += chunk.length;
        if (!response.destroyed) response.once('drain', write);
      };
      response.write('{"resources": [');
      write();
    });
    const result = await keel(['status', '--url', url]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`keel: ${url}/status answered more than 4 MiB: not a Keel /status document\n`);
    // The server was still writing when the command gave up: it did not wait for an end.
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('shows a document with missing or mistyped fields instead of crashing', async () => {
    const url = await serve(
      json({ resources: [{}, { name: 'db', status: 7, phases: { start: { offsetMs: 'soon' } } }, null] }),
    );
    const result = await keel(['status', '--url', url]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\(unnamed service\) {2}\(no state\)\n/);
    expect(result.stdout).toContain('(resource #1)  (no status)');
    expect(result.stdout).toMatch(/\ndb +\(no status\)\n/);
    expect(result.stdout).toContain('(resource #3)');
    expect(result.stdout).toContain('startup waterfall: no start timings yet');
  });

  it("prints the server's text without terminal escape sequences (title, screen clear, OSC 52 clipboard)", async () => {
    const evil = '\u001b]0;pwned\u0007\u001b[2J\u001b]52;c;cm0gLXJmIH4=\u0007\u009b31m';
    const url = await serve(
      json({
        service: `svc${evil}`,
        state: 'running',
        version: `1${evil}`,
        resources: [
          { name: `db${evil}`, status: 'STARTED', statusText: `ok\u202e${evil}\nline`, phases: {} },
        ],
      }),
    );
    const [shown, raw] = await Promise.all([
      keel(['status', '--url', url]),
      keel(['status', '--url', url, '--json']),
    ]);
    expect(shown.code).toBe(0);
    for (const output of [shown.stdout, raw.stdout]) {
      // eslint-disable-next-line no-control-regex
      expect(output).not.toMatch(/[\u0007\u001b\u009b\u202e]/);
    }
    expect(shown.stdout).toMatch(/^svc {2}running {2}version 1\n/);
    expect(shown.stdout).toContain('ok??line');
    expect(JSON.parse(raw.stdout).service).toBe(`svc${evil}`);
  });

  it('follows a redirect within the origin; refuses one to another origin without contacting it', async () => {
    let contacted = 0;
    const elsewhere = await serve((request, response) => {
      contacted++;
      json({ service: 'elsewhere', state: 'running', resources: [] })(request, response);
    });
    const redirecting = await serve((request, response) => {
      if (request.url === '/status') {
        response.writeHead(302, { location: '/real/status' });
        response.end();
      } else if (request.url === '/real/status') {
        json({ service: 'here', state: 'running', resources: [] })(request, response);
      }
    });
    const away = await serve((_, response) => {
      response.writeHead(307, { location: `${elsewhere}/status` });
      response.end();
    });
    const [followed, refused] = await Promise.all([
      keel(['status', '--url', redirecting]),
      keel(['status', '--url', away]),
    ]);
    expect(followed).toMatchObject({ code: 0, stderr: '' });
    expect(followed.stdout).toMatch(/^here {2}running/);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(
      `keel: ${away}/status answered 307, a redirect to another origin (${elsewhere}): not followed\n`,
    );
    expect(contacted).toBe(0);
  });
});

describe('keel run --watch', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'keel-watch-'));
    writeFileSync(path.join(folder, 'generation.ts'), 'export const generation = 1;\n');
    // Imports Keel by its absolute path here: the watched folder lives outside the repository.
    writeFileSync(
      path.join(folder, 'service.ts'),
      `import { inject, LOGGER, Microservice, microservice, resource, type Log } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lib'))};
import { generation } from './generation';

@resource()
export class Generation {
  constructor(@inject(LOGGER) private readonly log: Log) {}
  start(): void { this.log.info({}, \`generation \${generation} started\`); }
  stop(): void { this.log.info({}, \`generation \${generation} stop hook ran\`); }
}

@microservice({ name: 'watched', resources: { generation: Generation } })
export class Watched extends Microservice {}
`,
    );
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('restarts once per burst of changes, stopping the old instance gracefully first; the new one serves', async () => {
    const watcher = start(['run', path.join(folder, 'service.ts'), '--watch']);
    await watcher.waitFor(/generation 1 started[\s\S]*watched ready in/);
    for (const round of [1, 2, 3]) {
      writeFileSync(path.join(folder, 'generation.ts'), `export const generation = 2; // save ${round}\n`);
    }
    await watcher.waitFor(/generation 2 started[\s\S]*watched ready in[\s\S]*watched ready in/);
    const output = watcher.output();
    expect(output.indexOf('generation 1 stop hook ran')).toBeGreaterThan(-1);
    expect(output.indexOf('generation 1 stop hook ran')).toBeLessThan(output.indexOf('generation 2 started'));
    const ports = reportPorts(output);
    expect(ports).toHaveLength(2);
    const ready = await fetch(`http://127.0.0.1:${ports[1]}/health/ready`);
    expect(ready.status).toBe(200);
    expect(output.match(/changed: restarting/g)).toHaveLength(1);

    watcher.child.kill('SIGTERM');
    expect((await watcher.exited).code).toBe(0);
    expect(watcher.output()).toContain('generation 2 stop hook ran');
  });

  it("watches the project's src/ by default and each --watch-path: shared code outside the entry's folder restarts it", async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'keel-watch-project-'));
    try {
      mkdirSync(path.join(project, 'src', 'services'), { recursive: true });
      mkdirSync(path.join(project, 'src', 'shared'));
      mkdirSync(path.join(project, 'common'));
      writeFileSync(path.join(project, 'src', 'shared', 'generation.ts'), 'export const generation = 1;\n');
      writeFileSync(path.join(project, 'common', 'label.ts'), "export const label = 'a';\n");
      writeFileSync(
        path.join(project, 'src', 'services', 'api.ts'),
        `import { inject, LOGGER, Microservice, microservice, resource, type Log } from ${JSON.stringify(path.join(PROJECT_ROOT, 'lib'))};
import { generation } from '../shared/generation';
import { label } from '../../common/label';

@resource()
export class Generation {
  constructor(@inject(LOGGER) private readonly log: Log) {}
  start(): void { this.log.info({}, \`generation \${generation}\${label} started\`); }
}

@microservice({ name: 'watched', resources: { generation: Generation } })
export class Watched extends Microservice {}
`,
      );
      // From the project's folder, as `npm run dev` runs it; the loader and tsconfig are the repository's.
      const watcher = spawnNode(
        [
          '-r',
          require.resolve('@swc-node/register'),
          CLI_ENTRY,
          'run',
          'src/services/api.ts',
          '--watch',
          '--watch-path',
          'common',
        ],
        project,
        { ...FREE_REPORT_PORT, SWC_NODE_PROJECT: path.join(PROJECT_ROOT, 'tsconfig.json') },
      );
      started.push(watcher);
      await watcher.waitFor(/generation 1a started[\s\S]*watched ready in/);
      expect(watcher.output()).toContain('keel run --watch: watching src, common');
      writeFileSync(path.join(project, 'src', 'shared', 'generation.ts'), 'export const generation = 2;\n');
      await watcher.waitFor(/generation 2a started/);
      writeFileSync(path.join(project, 'common', 'label.ts'), "export const label = 'b';\n");
      await watcher.waitFor(/generation 2b started/);
      watcher.child.kill('SIGTERM');
      expect((await watcher.exited).code).toBe(0);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('--watch-path without --watch, or naming no folder, is a usage error', async () => {
    const [alone, missing] = await Promise.all([
      keel(['run', path.join(folder, 'service.ts'), '--watch-path', folder]),
      keel(['run', path.join(folder, 'service.ts'), '--watch', '--watch-path', path.join(folder, 'nowhere')]),
    ]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('keel: --watch-path needs --watch');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--watch-path ${path.join(folder, 'nowhere')}: no such folder`);
  });

  it('an instance stops gracefully when its watcher dies, even by SIGKILL: no orphan is left', async () => {
    const watcher = start(['run', path.join(folder, 'service.ts'), '--watch']);
    await watcher.waitFor(/watched ready in/);
    watcher.child.kill('SIGKILL');
    // Resolves once the instance, which shares the output pipes, has exited too.
    await watcher.exited;
    expect(watcher.output()).toMatch(/stop hook ran[\s\S]*watched stopped in/);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
