import { request as httpRequest } from 'node:http';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createMicroservice,
  LifecycleError,
  MemoryAnalyzerResource,
  Microservice,
  microservice,
  ProfilerResource,
  ReportServerResource,
  SettingsError,
  type App,
} from '../../../lib';
import { isLoopback } from '../../../lib/resources/report-server';
import { quietLog, until } from '../../support/async';
import { send } from '../http/requests';

jest.setTimeout(60_000);

@microservice({
  name: 'lookout',
  resources: { profiler: ProfilerResource, memory_analyzer: MemoryAnalyzerResource },
})
class Lookout extends Microservice {}

function start(resources: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<App> {
  return createMicroservice(Lookout, {
    log: quietLog(),
    env,
    settings: { system: { resources: { report_server: { port: 0 }, ...resources } } },
  }).then(async (app) => {
    await app.start();
    return app;
  });
}

/** The start failure's root: the error the failing hook threw. */
async function startFailure(resources: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<unknown> {
  const outcome = await start(resources, env).then(
    (app) => app.stop().then(() => undefined),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(LifecycleError);
  return (outcome as LifecycleError).failures[0].error;
}

function reportPort(app: App): number {
  return app.get(ReportServerResource).address()!.port;
}

describe('/debug on a reachable address', () => {
  it.each(['profiler', 'memory_analyzer'])(
    'is refused at start when the report server listens beyond loopback with no debug_token (%s)',
    async (name) => {
      const error = await startFailure({
        report_server: { host: '0.0.0.0', port: 0 },
        [name]: { enabled: true },
      });
      expect(error).toBeInstanceOf(SettingsError);
      expect(error).toMatchObject({
        code: 'SETTINGS_INVALID',
        issues: [expect.objectContaining({ path: 'system.resources.report_server.debug_token' })],
      });
      expect((error as Error).message).toContain('system.resources.report_server.debug_token is empty');
    },
  );

  it('tells loopback addresses from the others', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '::1', 'localhost', '::ffff:127.0.0.1'])
      expect({ host, loopback: isLoopback(host) }).toEqual({ host, loopback: true });
    for (const host of ['0.0.0.0', '::', '', '10.0.0.7', '::ffff:10.0.0.7', 'example.com'])
      expect({ host, loopback: isLoopback(host) }).toEqual({ host, loopback: false });
  });

  it('starts on a loopback address without a token', async () => {
    const app = await start({ report_server: { host: '127.0.0.2', port: 0 }, profiler: { enabled: true } });
    await app.stop();
  });
});

describe('the debug token', () => {
  const TOKEN = 'open-sesame';
  let app: App;
  beforeAll(async () => {
    app = await start({ report_server: { port: 0, debug_token: TOKEN }, profiler: { enabled: true } });
  });
  afterAll(() => app.stop());

  const status = async (authorization?: string) =>
    (
      await send(reportPort(app), '/debug/profile?seconds=0.05', {
        headers: authorization === undefined ? {} : { authorization },
      })
    ).status;

  it('takes the Bearer scheme in any letter case', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR'])
      expect({ scheme, status: await status(`${scheme} ${TOKEN}`) }).toEqual({ scheme, status: 200 });
    expect(await status(`Bearer   ${TOKEN}  `)).toBe(200);
  });

  it('refuses any other token, scheme or shape with a bare 401', async () => {
    for (const authorization of [
      undefined,
      '',
      TOKEN,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      'Bearer ',
      `Bearer${TOKEN}`,
    ])
      expect({ authorization, status: await status(authorization) }).toEqual({ authorization, status: 401 });
  });
});

describe('on-demand profiles', () => {
  let app: App;
  let profiler: ProfilerResource;
  beforeAll(async () => {
    app = await start({ profiler: { enabled: true, max_on_demand: 1 } });
    profiler = app.get(ProfilerResource);
  });
  afterAll(() => app.stop());

  it('are capped (429 beyond max_on_demand) and each stops when its request closes', async () => {
    const long = httpRequest({
      host: '127.0.0.1',
      port: reportPort(app),
      path: '/debug/profile?seconds=300',
    });
    long.on('error', () => undefined);
    long.end();
    await until(() => profiler.onDemandCount === 1, 10_000, 'the long profile to run');
    const refused = await send(reportPort(app), '/debug/profile?seconds=1');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    long.destroy();
    await until(() => profiler.onDemandCount === 0, 10_000, 'the long profile to stop with its request');
    expect((await send(reportPort(app), '/debug/profile?seconds=0.05')).status).toBe(200);
  });
});

describe('diagnostics files', () => {
  let temp: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    temp = mkdtempSync(path.join(tmpdir(), 'keel-private-'));
    env = { TMPDIR: temp };
  });
  afterEach(() => rmSync(temp, { recursive: true, force: true }));

  it('go to a folder created 0700', async () => {
    const app = await start({ memory_analyzer: { enabled: true } }, env);
    try {
      const folder = path.join(temp, 'keel-lookout');
      expect(app.get(MemoryAnalyzerResource).directory).toBe(folder);
      expect(lstatSync(folder).mode & 0o777).toBe(0o700);
    } finally {
      await app.stop();
    }
  });

  it('are written one heap snapshot at a time (the second refused while the first is under way)', async () => {
    const app = await start({ memory_analyzer: { enabled: true } }, env);
    try {
      const analyzer = app.get(MemoryAnalyzerResource);
      // The folder made unsafe: the first snapshot is refused before V8 writes a byte, which keeps this cheap.
      chmodSync(analyzer.directory, 0o777);
      const first = analyzer.writeHeapSnapshot().catch((error: unknown) => error);
      await expect(analyzer.writeHeapSnapshot()).rejects.toMatchObject({
        code: 'DIAGNOSTICS_SNAPSHOT_IN_PROGRESS',
      });
      expect(await first).toMatchObject({ code: 'SETTINGS_INVALID' });
    } finally {
      await app.stop();
    }
  });

  it('are written 0600', async () => {
    const app = await start({ profiler: { enabled: true, interval_s: 0.2 } }, env);
    try {
      const folder = app.get(ProfilerResource).directory;
      await until(
        () => readdirSync(folder).some((name) => name.endsWith('.cpuprofile')),
        20_000,
        'a profile',
      );
      const [file] = readdirSync(folder).filter((name) => name.endsWith('.cpuprofile'));
      expect(lstatSync(path.join(folder, file)).mode & 0o777).toBe(0o600);
    } finally {
      await app.stop();
    }
  });

  it('refuse a symbolic link planted where the folder would be, naming the directory key', async () => {
    const elsewhere = path.join(temp, 'chosen-by-someone-else');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, path.join(temp, 'keel-lookout'));
    for (const name of ['profiler', 'memory_analyzer']) {
      const error = await startFailure({ [name]: { enabled: true } }, env);
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as Error).message).toContain(`system.resources.${name}.directory:`);
      expect((error as Error).message).toContain('is a symbolic link');
    }
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('make a folder of ours that others could read private, and refuse a set one others can write in', async () => {
    const folder = path.join(temp, 'keel-lookout');
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    const app = await start({ profiler: { enabled: true } }, env);
    await app.stop();
    expect(lstatSync(folder).mode & 0o777).toBe(0o700);

    const shared = path.join(temp, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const error = await startFailure({ profiler: { enabled: true, directory: shared } });
    expect((error as Error).message).toContain('can be written by other users (mode 777)');
  });
});
