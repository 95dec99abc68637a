import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Profiler } from 'node:inspector';
import {
  createMicroservice,
  MemoryAnalyzerResource,
  Microservice,
  microservice,
  ProfilerResource,
  ReportServerResource,
} from '../../../lib';
import { quietLog } from '../../support/async';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

jest.setTimeout(60_000);

const TOKEN = 'let-me-in';
const MAX_FILES = 2;

function records(service: ServiceProcess): Record<string, unknown>[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The JavaScript function with the most samples, over every call path it appears on. Native
 * frames are left out: the inspector's own `dispatch` (building the other session's profiles)
 * can outweigh a busy function in a short window on a loaded machine.
 */
/**
 * The fixture's CPU-bound code: `burnCpu`, or the task method `burn` once V8 has inlined `burnCpu`
 * into it (Node 24's V8 does): the samples then land on the caller.
 */
const CPU_BOUND = /^burn(Cpu)?$/;

function hottest(profile: Profiler.Profile): string {
  const hits = new Map<string, number>();
  for (const { callFrame, hitCount } of profile.nodes) {
    if (callFrame.url === '') continue;
    hits.set(callFrame.functionName, (hits.get(callFrame.functionName) ?? 0) + (hitCount ?? 0));
  }
  return [...hits.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

describe('the profiler and the memory analyzer in a real process', () => {
  let service: ServiceProcess;
  let directory: string;
  let reportPort: number;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'keel-diagnostics-'));
    service = spawnService('test/functional/diagnostics/fixtures/hot-and-leaky.ts', {
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__DEBUG_TOKEN: TOKEN,
      KEEL__SYSTEM__RESOURCES__PROFILER__ENABLED: 'true',
      KEEL__SYSTEM__RESOURCES__PROFILER__INTERVAL_S: '1',
      KEEL__SYSTEM__RESOURCES__PROFILER__TOP: '5',
      KEEL__SYSTEM__RESOURCES__PROFILER__DIRECTORY: directory,
      KEEL__SYSTEM__RESOURCES__PROFILER__MAX_FILES: String(MAX_FILES),
      KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__ENABLED: 'true',
      KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__INTERVAL_S: '1',
      KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__TOP: '5',
      KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__DIRECTORY: directory,
      KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__MAX_FILES: '1',
      KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__SAMPLING_INTERVAL_BYTES: '4096',
    });
    const output = await service.waitFor(/report server on http:\/\/127\.0\.0\.1:\d+/);
    reportPort = Number(/report server on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
  });

  afterAll(() => {
    killAll([service]);
    rmSync(directory, { recursive: true, force: true });
  });

  it('logs the CPU-bound function on top of each table and writes it in the .cpuprofile files, within their bound', async () => {
    await service.waitFor(/(cpu profile of the last[\s\S]*){4}/, 20_000);
    const reports = records(service).filter((record) =>
      String(record.msg).startsWith('cpu profile of the last'),
    );
    const last = reports[reports.length - 1] as {
      top: { function: string; location: string; share: number }[];
      file: string;
    };
    expect(last.top[0]).toMatchObject({
      function: expect.stringMatching(CPU_BOUND),
      location: expect.stringMatching(/^test\/functional\/diagnostics\/fixtures\/hot-and-leaky\.ts:\d+$/),
    });
    expect(last.top[0].share).toBeGreaterThan(0.3);
    const files = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(MAX_FILES);
    expect(files).toContain(path.basename(last.file));
    expect(hottest(JSON.parse(readFileSync(last.file, 'utf8')) as Profiler.Profile)).toMatch(CPU_BOUND);
  });

  it('shows the leaking class as the top growth', async () => {
    await service.waitFor(/(heap growth since the last look[\s\S]*){3}/, 20_000);
    const looks = records(service).filter((record) => String(record.msg).startsWith('heap growth since'));
    for (const look of looks.slice(1)) {
      const { growth } = look as { growth: { function: string; location: string; growth_bytes: number }[] };
      expect(growth[0]).toMatchObject({
        function: 'LeakyRecord',
        location: expect.stringContaining('hot-and-leaky.ts:'),
      });
    }
  });

  it('answers /debug/* only with the bearer token, and 401 without detail', async () => {
    const url = `http://127.0.0.1:${reportPort}/debug/profile?seconds=1`;
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const refused = await fetch(url, { headers });
      expect(refused.status).toBe(401);
      expect(await refused.text()).toBe('');
    }
    const answered = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answered.status).toBe(200);
    expect(hottest((await answered.json()) as Profiler.Profile)).toMatch(CPU_BOUND);
  });

  it('writes heap snapshots into the directory on demand, within their bound', async () => {
    // An older snapshot of the same service: the bound (max_files 1) removes it.
    const older = path.join(directory, 'hot_and_leaky-heap-2000-01-01T00-00-00-000Z-1.heapsnapshot');
    writeFileSync(older, '{}');
    const reply = await fetch(`http://127.0.0.1:${reportPort}/debug/heap-snapshot`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(reply.status).toBe(200);
    const { file, bytes } = (await reply.json()) as { file: string; bytes: number };
    expect(path.dirname(file)).toBe(directory);
    expect(file.endsWith('.heapsnapshot')).toBe(true);
    expect(bytes).toBeGreaterThan(1000);
    expect(readdirSync(directory).filter((name) => name.endsWith('.heapsnapshot'))).toEqual([
      path.basename(file),
    ]);
  });
});

@microservice({
  name: 'quiet',
  resources: { profiler: ProfilerResource, memory_analyzer: MemoryAnalyzerResource },
})
class Quiet extends Microservice {}

describe('the profiler and the memory analyzer, listed but not enabled', () => {
  it('serve no /debug endpoint and start no session', async () => {
    const app = await createMicroservice(Quiet, {
      log: quietLog(),
      settings: { system: { resources: { report_server: { port: 0 } } } },
    });
    await app.start();
    try {
      const { port } = app.get(ReportServerResource).address()!;
      for (const route of ['/debug/profile?seconds=1', '/debug/heap-snapshot'])
        expect((await fetch(`http://127.0.0.1:${port}${route}`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });
});
