import autocannon from 'autocannon';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
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
const TARGET = 0.95;

interface Sample {
  requestsPerSecond: number;
  p99Ms: number;
  failed: number;
  serverCpuMicrosecondsPerRequest: number;
}

async function load(port: number, pid: number, seconds: number): Promise<Sample> {
  const cpuBefore = cpuMicroseconds(pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hello`,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    failed: result.errors + result.timeouts + result.non2xx,
    serverCpuMicrosecondsPerRequest: (cpuMicroseconds(pid) - cpuBefore) / result.requests.total,
  };
}

/**
 * GET /hello through HttpServerResource with its default middleware (request id, access log line,
 * metrics, errors, drain gate, body reader) against bare koa with one route, each in its own
 * process, loaded by autocannon from this one, rounds interleaved so that drift hits both alike.
 * Bare koa with a minimal JSON access line shows what the log line alone costs, unjudged.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const targets = [
    {
      name: 'bare koa + @koa/router',
      entry: 'test/bench/fixtures/http-bare-koa.ts',
      env: (port: number) => ({ PORT: String(port) }),
    },
    {
      name: 'bare koa + a JSON access line',
      entry: 'test/bench/fixtures/http-bare-koa.ts',
      env: (port: number) => ({ PORT: String(port), ACCESS_LINE: '1' }),
    },
    { name: 'Keel HttpServerResource', entry: 'samples/hello-http/main.ts', env: keelEnv, judged: true },
    {
      name: 'Keel, access_log off',
      entry: 'samples/hello-http/main.ts',
      env: (port: number) => ({ ...keelEnv(port), KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false' }),
      judged: true,
    },
  ];
  const running = await Promise.all(
    targets.map(async (target) => {
      const port = await freePort();
      const child = spawnTs(target.entry, target.env(port));
      await firstOk(port, '/hello');
      return { ...target, port, child, samples: [] as Sample[] };
    }),
  );
  try {
    for (const server of running) await load(server.port, server.child.pid!, 1);
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with another server, so that no one always runs first or last.
      const order = running.map((_, index) => running[(index + round) % running.length]);
      for (const server of order) server.samples.push(await load(server.port, server.child.pid!, SECONDS));
    }
  } finally {
    await Promise.all(running.map((server) => terminate(server.child)));
  }
  const [floor, ...others] = running.map((server) => ({
    name: server.name,
    judged: 'judged' in server,
    rps: median(server.samples.map((sample) => sample.requestsPerSecond)),
    p99: median(server.samples.map((sample) => sample.p99Ms)),
    cpu: median(server.samples.map((sample) => sample.serverCpuMicrosecondsPerRequest)),
    failed: server.samples.reduce((sum, sample) => sum + sample.failed, 0),
  }));
  console.log(`## HTTP throughput: GET /hello, ${CONNECTIONS} connections, ${ROUNDS} x ${SECONDS} s each\n`);
  console.log(
    markdownTable(
      [
        'server',
        'req/s (median)',
        'p99 ms (median)',
        'failed',
        'server CPU µs/request',
        'vs bare koa (req/s)',
        'vs bare koa (CPU/request)',
        'target',
        'verdict',
      ],
      [
        [
          floor.name,
          fixed(floor.rps, 0),
          fixed(floor.p99, 1),
          String(floor.failed),
          fixed(floor.cpu, 1),
          times(1),
          times(1),
          '',
          '',
        ],
        ...others.map((row) => [
          row.name,
          fixed(row.rps, 0),
          fixed(row.p99, 1),
          String(row.failed),
          fixed(row.cpu, 1),
          times(row.rps / floor.rps),
          times(row.cpu / floor.cpu),
          row.judged ? `>= ${TARGET}x` : '',
          row.judged ? verdict(row.rps / floor.rps >= TARGET) : '',
        ]),
      ],
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
