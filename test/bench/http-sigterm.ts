import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnService } from '../support/process';
import { freePorts, listeningPort } from '../functional/http/ports';
import { load, type Client } from '../functional/http/sigterm-load';
import { markdownTable, verdict } from './support/table';
import { loadAverage } from './fixtures/http-processes';

const CONNECTIONS = 50;
const LOAD_MS = 6_000;
const SIGTERM_AT_MS = 3_000;
/** Fast handlers: with nothing in flight at SIGTERM, a drain that waits only for requests resets the rest. */
const HANDLER_MS = 1;

async function round(client: Client, shutdownDelayMs = 0): Promise<string[]> {
  const service = spawnService('test/functional/http/fixtures/slow-service.ts', {
    ...freePorts('http'),
    SLOW_SERVICE_DELAY_MS: String(HANDLER_MS),
    // The access log is the client's only competitor for the 2 cores; it says nothing here.
    KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
    KEEL__SYSTEM__RESOURCES__HTTP__SHUTDOWN_DELAY_MS: String(shutdownDelayMs),
  });
  const port = await listeningPort(service);
  let signalledAt = 0;
  const signal = sleep(SIGTERM_AT_MS).then(() => {
    signalledAt = performance.now();
    service.child.kill('SIGTERM');
  });
  const exitedAfter = service.exited.then((status) => ({ ...status, ms: performance.now() - signalledAt }));
  const { counts, failures } = await load(port, '/slow', {
    client,
    connections: CONNECTIONS,
    durationMs: LOAD_MS,
  });
  await signal;
  const status = await exitedAfter;
  const drained = /drained: (\d+) request\(s\) abandoned, (\d+) socket\(s\) destroyed, (\d+) idle/.exec(
    service.output(),
  );
  const failedDetail = [...failures].map(([detail, count]) => `${detail}: ${count}`).join(', ') || 'none';
  // Keep-alive clients open no connection until the drain answers with Connection: close, and
  // then the listener is closed: nothing can wait in its accept queue, so every reset is a fault.
  // With a shutdown delay they reconnect while the listener still accepts, and some of those
  // connections are in the accept queue when it closes: resets on new connections, reported.
  const met =
    counts.failed === 0 &&
    counts.resetReused === 0 &&
    (client === 'close' || shutdownDelayMs > 0 || counts.resetNew === 0) &&
    status.code === 0;
  return [
    client,
    String(shutdownDelayMs),
    String(counts.ok),
    String(counts.turnedAway),
    String(counts.resetReused),
    String(counts.resetNew),
    String(counts.refused),
    `${counts.failed} (${failedDetail})`,
    drained === null ? 'no drain line' : `${drained[2]} / ${drained[3]}`,
    String(status.code ?? status.signal),
    status.ms.toFixed(0),
    verdict(met),
  ];
}

/**
 * 50 clients hammer a service whose handler takes 1 ms; SIGTERM lands in the middle of 6 s of load,
 * which goes on against the closed port. Once with keep-alive connections, once with
 * `Connection: close` on every request. A reset on a kept-alive connection is a request the
 * server had accepted and cut; a reset on a new connection was still in the accept queue when the
 * listener closed (or was destroyed by the server, which the drain line tells).
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const rows = [await round('keep-alive'), await round('close'), await round('keep-alive', 1000)];
  console.log(
    `## SIGTERM under load: ${CONNECTIONS} connections, ${LOAD_MS / 1000} s, SIGTERM at ${SIGTERM_AT_MS / 1000} s, ${HANDLER_MS} ms handler\n`,
  );
  console.log(
    markdownTable(
      [
        'client',
        'shutdown_delay_ms',
        'answered 200',
        '503 + Retry-After',
        'reset on a kept-alive connection',
        'reset on a new connection',
        'refused connections',
        'failed requests',
        'sockets destroyed / idle closed (server)',
        'exit code',
        'SIGTERM to exit ms',
        'verdict',
      ],
      rows,
    ),
  );
  console.log(
    `\nTargets: keep-alive 0 resets and 0 failed; close 0 failed, no reset on an accepted connection. Load average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
