import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { createMicroservice, MemoryAnalyzerResource, Microservice, microservice } from '../../lib';
import { quietLog } from '../support/async';
import { median } from './support/measure';
import { fixed, markdownTable, times } from './support/table';
import {
  firstOk,
  freePort,
  keelEnv,
  loadAverage,
  loadHello,
  type LoadSample,
  spawnTs,
  terminate,
} from './fixtures/http-processes';

const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 3);
const CONNECTIONS = 10;
const ENTRY = 'test/bench/fixtures/http-diagnostics.ts';

/**
 * The HTTP sample with the profiler or the memory analyzer on at their default settings, against
 * the same service with both listed and off (the floor), each in its own process, rounds
 * interleaved. The cost is the loss of requests per second and the extra server CPU per request.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const directory = mkdtempSync(path.join(tmpdir(), 'keel-bench-diagnostics-'));
  const on = (name: string) => ({
    [`KEEL__SYSTEM__RESOURCES__${name}__ENABLED`]: 'true',
    [`KEEL__SYSTEM__RESOURCES__${name}__DIRECTORY`]: directory,
  });
  const targets = [
    { name: 'both off (floor)', env: {} },
    { name: 'profiler on (interval_s 60, 1000 µs sampling)', env: on('PROFILER') },
    {
      name: 'profiler on, interval_s 1 (a report every second)',
      env: { ...on('PROFILER'), KEEL__SYSTEM__RESOURCES__PROFILER__INTERVAL_S: '1' },
    },
    { name: 'memory analyzer on (interval_s 30, 128 KiB sampling)', env: on('MEMORY_ANALYZER') },
    {
      name: 'memory analyzer sampling only (interval_s 3600: no look)',
      env: { ...on('MEMORY_ANALYZER'), KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__INTERVAL_S: '3600' },
    },
    {
      name: 'memory analyzer on, interval_s 1',
      env: { ...on('MEMORY_ANALYZER'), KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__INTERVAL_S: '1' },
    },
  ];
  // One after another: five compiling at once on a loaded 2-core machine can take past firstOk's bound.
  const running: ((typeof targets)[number] & { port: number; child: ChildProcess; samples: LoadSample[] })[] =
    [];
  try {
    for (const target of targets) {
      const port = await freePort();
      const child = spawnTs(ENTRY, {
        ...keelEnv(port),
        KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
        ...target.env,
      });
      running.push({ ...target, port, child, samples: [] as LoadSample[] });
      await firstOk(port, '/hello', 60_000);
    }
    for (const server of running) await loadHello(server.port, server.child.pid!, 1, CONNECTIONS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = running.map((_, index) => running[(index + round) % running.length]);
      for (const server of order)
        server.samples.push(await loadHello(server.port, server.child.pid!, SECONDS, CONNECTIONS));
    }
  } finally {
    await Promise.all(running.map((server) => terminate(server.child)));
  }
  const rows = running.map((server) => ({
    name: server.name,
    rps: median(server.samples.map((sample) => sample.requestsPerSecond)),
    cpu: median(server.samples.map((sample) => sample.serverCpuMicrosecondsPerRequest)),
  }));
  const floor = rows[0];
  const percent = (value: number) => `${value >= 0 ? '+' : ''}${fixed(value * 100, 1)}%`;
  console.log(
    `## Profiler and memory analyzer cost: GET /hello, access log off, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s each\n`,
  );
  console.log(
    markdownTable(
      ['service', 'req/s (median)', 'req/s vs off', 'server CPU µs/request', 'CPU/request vs off'],
      rows.map((row) => [
        row.name,
        fixed(row.rps, 0),
        percent(row.rps / floor.rps - 1),
        fixed(row.cpu, 1),
        percent(row.cpu / floor.cpu - 1),
      ]),
    ),
  );
  try {
    await lookVersusSnapshot(directory);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  await inProcessCost();
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}

@microservice({ name: 'heap_bench', resources: { memory_analyzer: MemoryAnalyzerResource } })
class HeapBench extends Microservice {}

/**
 * The memory analyzer's choice, priced on one heap: a look (read the sampling profile, diff by
 * allocation site) against what an objgraph-like count by constructor needs, a heap snapshot.
 */
async function lookVersusSnapshot(directory: string): Promise<void> {
  const retained = Array.from({ length: 200_000 }, (_, index) => ({ index, label: `object-${index}` }));
  const app = await createMicroservice(HeapBench, {
    log: quietLog(),
    settings: {
      system: {
        resources: { report_server: { enabled: false }, memory_analyzer: { enabled: true, directory } },
      },
    },
  });
  await app.start();
  const analyzer = app.get(MemoryAnalyzerResource);
  const more = Array.from({ length: 200_000 }, (_, index) => ({ index, label: `more-${index}` }));
  const looks: number[] = [];
  for (let i = 0; i < 3; i++) {
    const began = performance.now();
    await analyzer.look();
    looks.push(performance.now() - began);
  }
  const snapshots: number[] = [];
  for (let i = 0; i < 1; i++) {
    const began = performance.now();
    writeHeapSnapshot(path.join(directory, `bench-${i}.heapsnapshot`));
    snapshots.push(performance.now() - began);
  }
  await app.stop();
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  const objects = retained.length + more.length;
  console.log(
    `\n### One look vs one heap snapshot, ${fixed(heapMb, 0)} MB heap (${objects} objects retained)\n`,
  );
  console.log(
    markdownTable(
      ['work', 'ms (median)', 'ms (each)', 'vs a look'],
      [
        [
          'memory analyzer look (sampling profile, by allocation site)',
          fixed(median(looks), 1),
          looks.map((ms) => fixed(ms, 1)).join(', '),
          times(1),
        ],
        [
          'v8.writeHeapSnapshot (what a count by constructor needs)',
          fixed(median(snapshots), 1),
          snapshots.map((ms) => fixed(ms, 1)).join(', '),
          times(median(snapshots) / median(looks)),
        ],
      ],
    ),
  );
}

/** Allocates and serializes: what a request handler does, without sockets or a load generator. */
function allocatingWork(): number {
  let length = 0;
  for (let i = 0; i < 200_000; i++)
    length += JSON.stringify({ i, label: `item-${i}`, pair: [i, i + 1] }).length;
  return length;
}

/**
 * The same samplers at their defaults around an allocating loop in this process, by CPU time: the
 * HTTP table's load generator shares the 2 cores with the servers, this one does not. Modes
 * alternate within each round.
 */
async function inProcessCost(): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  const modes: { name: string; on: () => Promise<unknown>; off: () => Promise<unknown> }[] = [
    { name: 'no sampler (floor)', on: async () => undefined, off: async () => undefined },
    {
      name: 'CPU profiler, 1000 µs sampling',
      on: () => session.post('Profiler.start'),
      off: () => session.post('Profiler.stop'),
    },
    {
      name: 'heap sampling, 128 KiB',
      on: () => session.post('HeapProfiler.startSampling', { samplingInterval: 131_072 }),
      off: () => session.post('HeapProfiler.stopSampling'),
    },
  ];
  const samples = modes.map(() => [] as number[]);
  allocatingWork();
  for (let round = 0; round < 7; round++) {
    for (const [index, mode] of modes.entries()) {
      await mode.on();
      const before = process.cpuUsage();
      allocatingWork();
      const used = process.cpuUsage(before);
      await mode.off();
      samples[index].push((used.user + used.system) / 1000);
    }
  }
  session.disconnect();
  const floor = median(samples[0]);
  console.log('\n### In-process: 200,000 JSON.stringify of a fresh object, CPU ms, 7 rounds\n');
  console.log(
    markdownTable(
      ['sampler', 'CPU ms (median)', 'vs no sampler'],
      modes.map((mode, index) => [
        mode.name,
        fixed(median(samples[index]), 1),
        times(median(samples[index]) / floor),
      ]),
    ),
  );
}
