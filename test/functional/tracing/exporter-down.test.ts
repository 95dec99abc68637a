import path from 'node:path';
import autocannon from 'autocannon';
import { freePorts } from '../../support/ports';
import { killAll, PROJECT_ROOT, spawnNode, type ServiceProcess } from '../../support/process';

/** The service's heap in use after a full collection, in MB, read through test/support/heap-probe.js. */
async function heapAfterGc(service: ServiceProcess): Promise<number> {
  const seen = (service.output().match(/heap-probe used=\d+/g) ?? []).length;
  service.child.kill('SIGUSR2');
  const pattern = new RegExp(`(?:[\\s\\S]*?heap-probe used=\\d+){${seen + 1}}`);
  const output = await service.waitFor(pattern, 20_000);
  const readings = [...output.matchAll(/heap-probe used=(\d+)/g)];
  return Number(readings[seen][1]) / 2 ** 20;
}

async function load(port: number, amount: number): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 20, amount });
}

describe('tracing: the exporter unreachable for the whole run, under load', () => {
  const processes: ServiceProcess[] = [];
  afterAll(() => killAll(processes));

  it('answers every request, holds memory to max_queue, and counts the dropped spans', async () => {
    const [httpPort, reportPort, closed] = await freePorts(3);
    const service = spawnNode(
      [
        '--expose-gc',
        '-r',
        path.join(PROJECT_ROOT, 'test/support/heap-probe.js'),
        '-r',
        '@swc-node/register',
        path.join(PROJECT_ROOT, 'samples/hello-http/main.ts'),
      ],
      PROJECT_ROOT,
      {
        KEEL__SYSTEM__RESOURCES__HTTP__PORT: String(httpPort),
        KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
        KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: String(reportPort),
        KEEL__SYSTEM__TRACING__ENABLED: 'true',
        KEEL__SYSTEM__TRACING__ENDPOINT: `http://127.0.0.1:${closed}/v1/traces`,
        KEEL__SYSTEM__TRACING__MAX_QUEUE: '200',
        KEEL__SYSTEM__TRACING__BATCH_DELAY_MS: '50',
        KEEL__SYSTEM__TRACING__EXPORT_TIMEOUT_MS: '500',
      },
    );
    processes.push(service);
    await service.waitFor(/ ready in [\d.]+ ms/, 60_000);

    // Warm up (JIT, buffers, the first failed exports), then the same load again, four times over.
    const warm = await load(httpPort, 3000);
    const before = await heapAfterGc(service);
    const loaded = await load(httpPort, 12_000);
    const after = await heapAfterGc(service);

    for (const result of [warm, loaded]) {
      expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({
        errors: 0,
        timeouts: 0,
        non2xx: 0,
      });
    }
    // 12,000 spans that cannot leave: held to 200, the rest dropped, the heap flat.
    expect(after - before).toBeLessThan(10);
    const metrics = await (await fetch(`http://127.0.0.1:${reportPort}/metrics`)).text();
    const dropped = Number(/^hello_http_tracing_dropped_spans (\d+)$/m.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThan(10_000);
    const said = service.output().match(/tracing dropped spans/g) ?? [];
    // Once in the log, whatever the count (the record is echoed with its message, hence two).
    expect(said.length).toBeLessThanOrEqual(2);
    expect(said.length).toBeGreaterThan(0);

    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
  }, 120_000);
});
