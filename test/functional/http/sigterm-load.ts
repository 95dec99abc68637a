import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What became of one request sent while a server stops:
 * - `ok`: 200; `turnedAway`: 503 with Retry-After;
 * - `refused`: the connection was refused (the listener is closed), nothing was sent;
 * - `resetReused`: a kept-alive connection, whose earlier request was answered, was cut instead of
 *   answering this one: the fault the drain must never commit;
 * - `resetNew`: a new connection cut before any answer: the server destroyed it, or it was still in
 *   the listener's accept queue when the listener closed;
 * - `failed`: any other answer or error.
 */
export type Outcome = 'ok' | 'turnedAway' | 'refused' | 'resetReused' | 'resetNew' | 'failed';

export type Client = 'keep-alive' | 'close';

export interface LoadResult {
  counts: Record<Outcome, number>;
  /** The status or error code of each `failed` request, with how many. */
  failures: Map<string, number>;
}

function attempt(port: number, path: string, client: Client, agent: Agent | undefined): Promise<string> {
  return new Promise((resolve) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: agent ?? false,
        headers: client === 'close' ? { Connection: 'close' } : {},
        timeout: 30_000,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status === 200) resolve('ok');
          else if (status === 503 && response.headers['retry-after'] !== undefined) resolve('turnedAway');
          else resolve(`failed:${status}`);
        });
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve(`failed:${error.code ?? error.message}`),
        );
      },
    );
    call.on('timeout', () => call.destroy(new Error('client timeout')));
    call.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') return resolve('refused');
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE')
        return resolve(call.reusedSocket ? 'resetReused' : 'resetNew');
      resolve(`failed:${error.code ?? error.message}`);
    });
    call.end();
  });
}

/**
 * `connections` clients each send requests one after another for `durationMs` from the moment
 * each of them was answered once, and go on knocking (every 20 ms) once connections are refused.
 * Bounded by count of clients and time (twice `durationMs` at most).
 */
export async function load(
  port: number,
  path: string,
  {
    client,
    connections,
    durationMs,
    onWarm,
  }: {
    client: Client;
    connections: number;
    durationMs: number;
    /** Called once every client has had an answer: each keep-alive connection is open by then. */
    onWarm?: () => void;
  },
): Promise<LoadResult> {
  const agent = client === 'keep-alive' ? new Agent({ keepAlive: true, maxSockets: connections }) : undefined;
  const counts: Record<Outcome, number> = {
    ok: 0,
    turnedAway: 0,
    refused: 0,
    resetReused: 0,
    resetNew: 0,
    failed: 0,
  };
  const failures = new Map<string, number>();
  const began = performance.now();
  let cold = connections;
  // The time runs from the moment every client was answered once, so a slow start takes none of it.
  let from = began;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        let answered = false;
        while (performance.now() - from < durationMs) {
          const outcome = await attempt(port, path, client, agent);
          if (!answered && (outcome === 'ok' || outcome === 'turnedAway')) {
            answered = true;
            if (--cold === 0) {
              from = performance.now();
              onWarm?.();
            }
          }
          if (outcome.startsWith('failed:')) {
            counts.failed++;
            const detail = outcome.slice('failed:'.length);
            failures.set(detail, (failures.get(detail) ?? 0) + 1);
          } else {
            counts[outcome as Outcome]++;
          }
          if (outcome === 'refused') await sleep(20);
        }
      }),
    );
  } finally {
    agent?.destroy();
  }
  return { counts, failures };
}
