import { spawn, type ChildProcess } from 'node:child_process';
import type { Agent } from 'undici';
import { Policy } from '../../lib/resilience';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';
import { loadAverage, PROJECT_ROOT } from './fixtures/http-processes';

const REQUESTS_PER_RUN = Number(process.env.CLIENT_POLICY_REQUESTS ?? 10_000);
const ROUNDS = Number(process.env.CLIENT_POLICY_ROUNDS ?? 6);
const CONCURRENCY = 8;
/** Issue 24: the full policy costs at most 3 % more client CPU per request than the bare client. */
const TARGET = 1.03;

/** An upstream in its own process answering every request with a short body; its stdout goes through a pipe we drain. */
function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('node:http').createServer((q,r)=>r.end('ok'));s.keepAliveTimeout=60000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const port = Number.parseInt(text, 10);
      if (text.includes('\n') && port > 0) resolve({ child, port });
    });
    child.once('exit', (code) => reject(new Error(`upstream exited with ${code}`)));
  });
}

type Call = () => Promise<void>;

/** Client CPU µs per request of `REQUESTS_PER_RUN` requests, `CONCURRENCY` at a time. */
async function cpuPerRequest(call: Call): Promise<number> {
  let left = REQUESTS_PER_RUN;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await call();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REQUESTS_PER_RUN;
}

/**
 * CPU per request of an HTTP call through the full policy the client uses (bulkhead, total and
 * per-attempt timeout, retries, circuit breaker; nothing failing) against the same undici call bare,
 * in one process, rounds alternating. Only the client's CPU is counted. A third row is the bare call
 * with a timeout by hand (`AbortSignal.timeout`): any signal handed to undici's fetch costs CPU of
 * its own, so that row is what a timeout reaching the socket costs without the policy.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const undici = require('undici') as typeof import('undici');
  const { child, port } = await startUpstream();
  const agent: Agent = new undici.Agent({ connections: 64 });
  const url = `http://127.0.0.1:${port}/`;
  const origin = new URL(url).origin;
  const policy = new Policy<Response>({
    name: 'bench',
    timeoutMs: 10_000,
    totalTimeoutMs: 30_000,
    retry: { retries: 2, backoffMs: 100, maxBackoffMs: 2000 },
    breaker: {
      consecutiveFailures: 5,
      failureRatio: 0,
      windowMs: 10_000,
      minCalls: 10,
      halfOpenAfterMs: 5000,
    },
    bulkhead: { maxConcurrent: 128, maxQueued: 512 },
    isFailedResult: (response) => response.status >= 502 && response.status <= 504,
  });
  const bare: Call = async () => {
    const response = await undici.fetch(url, { dispatcher: agent });
    await response.arrayBuffer();
  };
  // The per-attempt timeout a user adds by hand, reaching the socket and the body read as the policy's does.
  const timed: Call = async () => {
    const response = await undici.fetch(url, { dispatcher: agent, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
  };
  const full: Call = async () => {
    const response = await policy.execute(({ signal }) =>
      policy.guard(
        origin,
        () => undici.fetch(url, { dispatcher: agent, signal }) as unknown as Promise<Response>,
      ),
    );
    await response.arrayBuffer();
  };
  try {
    await cpuPerRequest(bare);
    await cpuPerRequest(timed);
    await cpuPerRequest(full);
    const samples = { bare: [] as number[], timed: [] as number[], full: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      samples.bare.push(await cpuPerRequest(bare));
      samples.timed.push(await cpuPerRequest(timed));
      samples.full.push(await cpuPerRequest(full));
    }
    const bareMedian = median(samples.bare);
    const timedMedian = median(samples.timed);
    const fullMedian = median(samples.full);
    const ratio = fullMedian / bareMedian;
    console.log(
      `## HTTP client: full policy vs bare undici (${ROUNDS} rounds of ${REQUESTS_PER_RUN} requests, ${CONCURRENCY} at a time; load ${loadBefore} -> ${loadAverage()})\n`,
    );
    console.log(
      markdownTable(
        ['client', 'CPU µs/request (median)', 'runs', 'vs bare', 'target', 'verdict'],
        [
          [
            'undici fetch, bare',
            fixed(bareMedian, 1),
            samples.bare.map((v) => fixed(v, 1)).join(' '),
            times(1),
            '',
            '',
          ],
          [
            'undici fetch, AbortSignal.timeout by hand',
            fixed(timedMedian, 1),
            samples.timed.map((v) => fixed(v, 1)).join(' '),
            times(timedMedian / bareMedian),
            '',
            '',
          ],
          [
            'through Policy (bulkhead, timeouts, retries, breaker)',
            fixed(fullMedian, 1),
            samples.full.map((v) => fixed(v, 1)).join(' '),
            times(ratio),
            `<= ${times(TARGET)}`,
            verdict(ratio <= TARGET),
          ],
        ],
      ),
    );
    console.log(
      `\nThrough Policy vs the hand-made timeout (the floor with a signal reaching the socket): ${times(fullMedian / timedMedian)}`,
    );
    console.log();
  } finally {
    await agent.close();
    child.kill('SIGTERM');
  }
}
