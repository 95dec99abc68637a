import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import {
  firstOk,
  freePort,
  keelEnv,
  loadAverage,
  loadInRounds,
  PROJECT_ROOT,
  spawnNode,
  terminate,
  type LoadSample,
} from './fixtures/http-processes';

const SECONDS = Number(process.env.TRACING_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.TRACING_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.TRACING_BENCH_CONNECTIONS ?? 50);
/**
 * Keel as it was before its edges had any tracing code (the tracing module itself, which does
 * nothing per request, was there): the "no tracing code" side of the disabled-cost row.
 */
const BASELINE = process.env.TRACING_BENCH_BASELINE ?? 'fecb8ab';
const ON_TARGET = 1.0;
const OFF_TARGET = 1.01;

interface Exported {
  spans: number;
  bytes: number;
}

/**
 * An OTLP/HTTP endpoint that takes every export and answers 200; each server exports to a path of its
 * own, and the spans and bytes each one sent are counted apart: equal work is as many spans, as large.
 */
async function receiver(): Promise<{
  server: Server;
  endpoint: (name: string) => string;
  exported: (name: string) => Exported;
}> {
  const received = new Map<string, Exported>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const { resourceSpans } = JSON.parse(body.toString('utf8')) as OtlpJson;
      const counted = received.get(request.url ?? '') ?? { spans: 0, bytes: 0 };
      counted.bytes += body.length;
      for (const { scopeSpans } of resourceSpans)
        for (const { spans } of scopeSpans) counted.spans += spans.length;
      received.set(request.url ?? '', counted);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const path = (name: string) => `/v1/traces/${name}`;
  return {
    server,
    endpoint: (name) => `http://127.0.0.1:${port}${path(name)}`,
    exported: (name) => received.get(path(name)) ?? { spans: 0, bytes: 0 },
  };
}

/** What the receiver reads of an OTLP/HTTP JSON export. */
interface OtlpJson {
  resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
}

/** `BASELINE`'s lib, samples and config in a scratch folder, on this checkout's node_modules. */
function baselineCheckout(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'keel-bench-baseline-'));
  const archive = execFileSync(
    'git',
    ['archive', BASELINE, 'lib', 'samples', 'config', 'tsconfig.json', 'package.json'],
    { cwd: PROJECT_ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  execFileSync('tar', ['-x', '-C', folder], { input: archive });
  symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(folder, 'node_modules'));
  return folder;
}

/**
 * GET /hello on the HTTP sample with tracing on (sample_ratio 1, batch export over OTLP/HTTP to a
 * local receiver) against fastify-full traced by @fastify/otel with the same SDK and exporter, its
 * span given the 4 semantic-convention attributes of Keel's it lacks (as 9 a span as Keel's; the
 * row of @fastify/otel as it comes, 5 a span, is printed for what they cost it); and
 * the sample with tracing off against the same sample before any tracing code was on its path.
 * Each server in its own process, rounds interleaved; CPU per request read from /proc.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const otlp = await receiver();
  const baseline = baselineCheckout();
  const traced = (name: string) => ({
    KEEL__SYSTEM__TRACING__ENABLED: 'true',
    KEEL__SYSTEM__TRACING__EXPORTER: 'otlp-http',
    KEEL__SYSTEM__TRACING__ENDPOINT: otlp.endpoint(name),
    KEEL__SYSTEM__TRACING__SAMPLE_RATIO: '1',
  });
  const sample = path.join(PROJECT_ROOT, 'samples/hello-http/main.ts');
  const fastifyOtelApp = path.join(PROJECT_ROOT, 'test/bench/fixtures/fastify-otel-app.ts');
  const targets = [
    {
      name: 'fastify-full + @fastify/otel (+ 4 semconv attributes: 9 a span), OTLP/HTTP batch export',
      entry: fastifyOtelApp,
      cwd: PROJECT_ROOT,
      env: (port: number) => ({ PORT: String(port), OTLP_ENDPOINT: otlp.endpoint('fastify') }),
    },
    {
      name: 'Keel HTTP sample, tracing on (9 attributes a span), OTLP/HTTP batch export',
      entry: sample,
      cwd: PROJECT_ROOT,
      env: (port: number) => ({ ...keelEnv(port), ...traced('keel') }),
    },
    {
      name: `Keel HTTP sample before any tracing code (${BASELINE})`,
      entry: path.join(baseline, 'samples/hello-http/main.ts'),
      cwd: baseline,
      env: keelEnv,
    },
    { name: 'Keel HTTP sample, tracing off', entry: sample, cwd: PROJECT_ROOT, env: keelEnv },
    {
      name: 'fastify-full + @fastify/otel as it comes (5 attributes a span)',
      entry: fastifyOtelApp,
      cwd: PROJECT_ROOT,
      env: (port: number) => ({
        PORT: String(port),
        OTLP_ENDPOINT: otlp.endpoint('fastify-default'),
        FASTIFY_OTEL_ATTRIBUTES: 'default',
      }),
    },
  ];
  /** The receiver's path each target exports to, in `targets`' order (none: tracing off). */
  const exportsTo = ['fastify', 'keel', undefined, undefined, 'fastify-default'];
  const running = await Promise.all(
    targets.map(async (target) => {
      const port = await freePort();
      const child = spawnNode(['-r', '@swc-node/register', target.entry], target.env(port), target.cwd);
      await firstOk(port, '/hello');
      return { ...target, port, child, samples: [] as LoadSample[] };
    }),
  );
  try {
    await loadInRounds(running, ROUNDS, SECONDS, CONNECTIONS);
  } finally {
    await Promise.all(running.map((server) => terminate(server.child)));
    await new Promise((resolve) => otlp.server.close(resolve));
    rmSync(baseline, { recursive: true, force: true });
  }
  const rows = running.map((server, index) => {
    const exportedTo = exportsTo[index];
    return {
      name: server.name,
      exported: exportedTo === undefined ? undefined : otlp.exported(exportedTo),
      rps: median(server.samples.map((sample) => sample.requestsPerSecond)),
      p99: median(server.samples.map((sample) => sample.p99Ms)),
      cpu: median(server.samples.map((sample) => sample.serverCpuMicrosecondsPerRequest)),
      failed: server.samples.reduce((sum, sample) => sum + sample.failed, 0),
    };
  });
  const [fastifyOtel, keelOn, before, keelOff, fastifyDefault] = rows;
  type Row = (typeof rows)[number];
  const judged = new Map<Row, { against: Row; target: number | undefined; label: string }>([
    [keelOn, { against: fastifyOtel, target: ON_TARGET, label: `CPU <= ${ON_TARGET}x fastify + otel` }],
    [fastifyDefault, { against: fastifyOtel, target: undefined, label: 'what 4 attributes cost it' }],
    [keelOff, { against: before, target: OFF_TARGET, label: `CPU <= ${OFF_TARGET}x before tracing` }],
  ]);
  console.log(
    `## Tracing: GET /hello, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s each, node ${process.version}\n`,
  );
  console.log(
    markdownTable(
      [
        'server',
        'req/s (median)',
        'p99 ms',
        'failed',
        'spans exported',
        'bytes a span',
        'server CPU µs/request',
        'ratio',
        'target',
        'verdict',
      ],
      rows.map((row) => {
        const judge = judged.get(row);
        const ratio = judge === undefined ? undefined : row.cpu / judge.against.cpu;
        return [
          row.name,
          fixed(row.rps, 0),
          fixed(row.p99, 1),
          String(row.failed),
          row.exported === undefined ? '' : String(row.exported.spans),
          row.exported === undefined ? '' : fixed(row.exported.bytes / Math.max(1, row.exported.spans), 0),
          fixed(row.cpu, 1),
          ratio === undefined ? '' : times(ratio),
          judge?.label ?? '',
          judge?.target === undefined || ratio === undefined ? '' : verdict(ratio <= judge.target),
        ];
      }),
    ),
  );
  console.log(`\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores)\n`);
}
