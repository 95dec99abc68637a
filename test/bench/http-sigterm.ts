import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { markdownTable, verdict } from './support/table';
import { exited, firstOk, freePort, keelEnv, loadAverage, spawnTs } from './fixtures/http-processes';

const CONNECTIONS = 50;
const LOAD_MS = 10_000;
const SIGTERM_AT_MS = 5_000;
const HANDLER_MS = 20;

type Outcome = 'ok' | 'turnedAway' | 'refused' | 'failed';

function attempt(port: number, agent: Agent): Promise<{ outcome: Outcome; detail: string }> {
  return new Promise((resolve) => {
    const call = request({ host: '127.0.0.1', port, path: '/slow', agent, timeout: 30_000 }, (response) => {
      response.resume();
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status === 200) resolve({ outcome: 'ok', detail: '200' });
        else if (status === 503 && response.headers['retry-after'] !== undefined)
          resolve({ outcome: 'turnedAway', detail: '503' });
        else resolve({ outcome: 'failed', detail: String(status) });
      });
      response.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ outcome: 'failed', detail: error.code ?? error.message }),
      );
    });
    call.on('timeout', () => call.destroy(new Error('client timeout')));
    call.on('error', (error: NodeJS.ErrnoException) =>
      resolve(
        error.code === 'ECONNREFUSED'
          ? { outcome: 'refused', detail: 'ECONNREFUSED' }
          : { outcome: 'failed', detail: error.code ?? error.message },
      ),
    );
    call.end();
  });
}

/**
 * 50 keep-alive connections hammer a service whose handler takes 20 ms; SIGTERM lands in the
 * middle of 10 s of load, which goes on against the closed port. A request is failed when the
 * server accepted it and then cut it or answered anything but 200, or 503 with Retry-After.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const port = await freePort();
  const child = spawnTs('test/functional/http/fixtures/slow-service.ts', {
    ...keelEnv(port),
    SLOW_SERVICE_DELAY_MS: String(HANDLER_MS),
  });
  const exit = exited(child);
  await firstOk(port, '/slow');
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const counts: Record<Outcome, number> = { ok: 0, turnedAway: 0, refused: 0, failed: 0 };
  const failures = new Map<string, number>();
  const began = performance.now();
  let signalledAt = 0;
  const signal = sleep(SIGTERM_AT_MS).then(() => {
    signalledAt = performance.now();
    child.kill('SIGTERM');
  });
  const exitedAfter = exit.then((status) => ({ ...status, ms: performance.now() - signalledAt }));
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() - began < LOAD_MS) {
        const { outcome, detail } = await attempt(port, agent);
        counts[outcome]++;
        if (outcome === 'failed') failures.set(detail, (failures.get(detail) ?? 0) + 1);
        // Against a closed port, keep knocking without spinning.
        if (outcome === 'refused') await sleep(20);
      }
    }),
  );
  await signal;
  const status = await exitedAfter;
  agent.destroy();
  const failedDetail = [...failures].map(([detail, count]) => `${detail}: ${count}`).join(', ') || 'none';
  console.log(
    `## SIGTERM under load: ${CONNECTIONS} keep-alive connections, ${LOAD_MS / 1000} s, SIGTERM at ${SIGTERM_AT_MS / 1000} s\n`,
  );
  console.log(
    markdownTable(
      [
        'answered 200',
        '503 + Retry-After (arrived while draining)',
        'refused connections (after close)',
        'failed requests',
        'target',
        'exit code',
        'SIGTERM to exit ms',
        'verdict',
      ],
      [
        [
          String(counts.ok),
          String(counts.turnedAway),
          String(counts.refused),
          `${counts.failed} (${failedDetail})`,
          '0',
          String(status.code ?? status.signal),
          status.ms.toFixed(0),
          verdict(counts.failed === 0 && status.code === 0),
        ],
      ],
    ),
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
