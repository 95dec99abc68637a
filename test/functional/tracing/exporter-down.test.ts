import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { freePorts } from '../../support/ports';
import { killAll, spawnService, type ServiceProcess } from '../../support/process';

function rssMegabytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (line === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) / 1024;
}

async function load(port: number, amount: number): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: 20, amount });
}

describe('tracing: the exporter unreachable for the whole run, under load', () => {
  const processes: ServiceProcess[] = [];
  afterAll(() => killAll(processes));

  it('answers every request, holds memory to max_queue, and counts the dropped spans', async () => {
    const [httpPort, reportPort, closed] = await freePorts(3);
    const service = spawnService('samples/hello-http/main.ts', {
      KEEL__SYSTEM__RESOURCES__HTTP__PORT: String(httpPort),
      KEEL__SYSTEM__RESOURCES__HTTP__ACCESS_LOG: 'false',
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: String(reportPort),
      KEEL__SYSTEM__TRACING__ENABLED: 'true',
      KEEL__SYSTEM__TRACING__ENDPOINT: `http://127.0.0.1:${closed}/v1/traces`,
      KEEL__SYSTEM__TRACING__MAX_QUEUE: '200',
      KEEL__SYSTEM__TRACING__BATCH_DELAY_MS: '50',
      KEEL__SYSTEM__TRACING__EXPORT_TIMEOUT_MS: '500',
    });
    processes.push(service);
    await service.waitFor(/ ready in [\d.]+ ms/, 60_000);
    const pid = service.child.pid!;

    // Warm up (JIT, buffers, the first failed exports), then the same load again, four times over.
    const warm = await load(httpPort, 3000);
    const before = rssMegabytes(pid);
    const loaded = await load(httpPort, 12_000);
    const after = rssMegabytes(pid);

    for (const result of [warm, loaded]) {
      expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({
        errors: 0,
        timeouts: 0,
        non2xx: 0,
      });
    }
    // 12,000 spans that cannot leave: held to 200, the rest dropped, memory flat.
    expect(after - before).toBeLessThan(30);
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
