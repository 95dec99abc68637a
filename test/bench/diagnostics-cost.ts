import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { median } from './support/measure';
import { fixed, markdownTable } from './support/table';
import {
  cpuMicroseconds,
  firstOk,
  freePort,
  keelEnv,
  loadAverage,
  spawnTs,
  terminate,
} from './fixtures/http-processes';

const SECONDS = Number(process.env.HTTP_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.HTTP_BENCH_ROUNDS ?? 3);
const CONNECTIONS = 10;
const ENTRY = 'test/bench/fixtures/http-diagnostics.ts';

interface Sample {
  rps: number;
  cpuPerRequest: number;
}

async function load(port: number, pid: number, seconds: number): Promise<Sample> {
  const before = cpuMicroseconds(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hello`,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    rps: result.requests.average,
    cpuPerRequest: (cpuMicroseconds(pid) - before) / result.requests.total,
  };
}

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
      name: 'memory analyzer on, interval_s 1',
      env: { ...on('MEMORY_ANALYZER'), KEEL__SYSTEM__RESOURCES__MEMORY_ANALYZER__INTERVAL_S: '1' },
    },
  ];
  // One after another: five compiling at once on a loaded 2-core machine can take past firstOk's bound.
  const running: ((typeof targets)[number] & { port: number; child: ChildProcess; samples: Sample[] })[] = [];
  for (const target of targets) {
    const port = await freePort();
    const child = spawnTs(ENTRY, {
      ...keelEnv(port),
      KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
      ...target.env,
    });
    running.push({ ...target, port, child, samples: [] as Sample[] });
    await firstOk(port, '/hello', 60_000);
  }
  try {
    for (const server of running) await load(server.port, server.child.pid!, 1);
    for (let round = 0; round < ROUNDS; round++) {
      const order = running.map((_, index) => running[(index + round) % running.length]);
      for (const server of order) server.samples.push(await load(server.port, server.child.pid!, SECONDS));
    }
  } finally {
    await Promise.all(running.map((server) => terminate(server.child)));
    rmSync(directory, { recursive: true, force: true });
  }
  const rows = running.map((server) => ({
    name: server.name,
    rps: median(server.samples.map((sample) => sample.rps)),
    cpu: median(server.samples.map((sample) => sample.cpuPerRequest)),
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
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
