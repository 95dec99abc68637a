import { CarbonSink, Meters, MetricsReporters } from '../../../lib/metrics';
import { metricsSettings, sampleValue } from '../../unit/metrics/sample';
import { RecordingLogger, waitFor } from '../../unit/metrics/recording-logger';
import { CarbonListener } from './carbon-listener';

const LINE = /^dev\.billing_api\.box\.[A-Za-z0-9_:-]+(;[^\s;=]+=[^\s;]+)* -?\d+(\.\d+)?(e[+-]?\d+)? \d+$/;

function reportersFor(meters: Meters, port: number, logger: RecordingLogger, maxBufferedLines = 10_000) {
  const settings = metricsSettings({
    collect_frequency: 3600,
    handlers: { carbon: { enabled: true, host: '127.0.0.1', port, max_buffered_lines: maxBufferedLines } },
  });
  return new MetricsReporters(meters, settings, {
    serviceName: 'billing_api',
    deployName: 'dev',
    hostname: 'box',
    logger,
  });
}

/** A port nothing listens on: one a listener just had. */
async function closedPort(): Promise<number> {
  const listener = new CarbonListener();
  const port = await listener.start();
  await listener.stop();
  return port;
}

describe('carbon reporter against a real TCP listener', () => {
  const listeners: CarbonListener[] = [];
  const sinks: CarbonSink[] = [];

  async function listen(): Promise<CarbonListener> {
    const listener = new CarbonListener();
    listeners.push(listener);
    await listener.start();
    return listener;
  }

  function sink(port: number, logger: RecordingLogger, maxBufferedLines = 100): CarbonSink {
    const created = new CarbonSink({
      host: '127.0.0.1',
      port,
      logger,
      maxBufferedLines,
      initialRetryMs: 10,
      maxRetryMs: 50,
    });
    sinks.push(created);
    return created;
  }

  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.close()));
    await Promise.all(listeners.splice(0).map((l) => l.stop()));
  });

  it('sends every series in carbon plaintext format, one line each', async () => {
    const carbon = await listen();
    const meters = new Meters({ serviceName: 'billing_api' });
    meters.counter('jobs', { help: 'jobs', labels: { queue: 'mail' } }).inc(4);
    meters.summary('job_seconds', { help: 'time' }).observe(0.25);
    const reporters = reportersFor(meters, carbon.port, new RecordingLogger());
    await reporters.start();
    await reporters.push!.collectNow();
    await waitFor(() => carbon.lines.some((l) => l.includes('jobs_total')), 'the jobs line');
    await reporters.stop();

    expect(carbon.lines.filter((line) => !LINE.test(line))).toEqual([]);
    expect(carbon.lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/^dev\.billing_api\.box\.jobs_total;queue=mail 4 \d+$/)]),
    );
    expect(carbon.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dev\.billing_api\.box\.job_seconds;quantile=0\.99 0\.25 \d+$/),
      ]),
    );
    expect(carbon.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dev\.billing_api\.box\.process_resident_memory_bytes \d+ \d+$/),
      ]),
    );
    expect(carbon.connections).toBe(1);
  });

  it('pushes the last period when stopped', async () => {
    const carbon = await listen();
    const meters = new Meters({ serviceName: 'billing_api', processMetrics: false });
    const jobs = meters.counter('jobs', { help: 'jobs' });
    const reporters = reportersFor(meters, carbon.port, new RecordingLogger());
    await reporters.start();
    jobs.inc(9);
    await reporters.stop();
    await waitFor(
      () => carbon.lines.some((l) => l.startsWith('dev.billing_api.box.jobs_total 9 ')),
      'the last period',
    );
  });

  it('reconnects after carbon restarts and delivers what it buffered meanwhile, warning once', async () => {
    const carbon = await listen();
    const logger = new RecordingLogger();
    const client = sink(carbon.port, logger);
    await client.open();
    await client.write(['before 1 1']);
    await waitFor(() => carbon.lines.includes('before 1 1'), 'the first line');

    await carbon.stop();
    await waitFor(() => !client.stats().connected, 'the client to see the outage');
    await client.write(['during 2 2']);
    await waitFor(() => logger.warnings.length > 0, 'the outage warning');
    // Let several reconnect attempts fail: still one warning for the whole outage.
    await waitFor(() => logger.warnings.length > 0 && client.stats().buffered === 1, 'a buffered line');
    await new Promise((resolve) => setTimeout(resolve, 200));

    await carbon.start();
    await waitFor(() => carbon.lines.includes('during 2 2'), 'the buffered line after the restart');
    await client.write(['after 3 3']);
    await waitFor(() => carbon.lines.includes('after 3 3'), 'a line after the restart');

    expect(carbon.lines).toEqual(['before 1 1', 'during 2 2', 'after 3 3']);
    expect(carbon.connections).toBe(2);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/carbon 127\.0\.0\.1:\d+ unreachable/);
    expect(logger.infos).toEqual([expect.stringMatching(/reachable again; 0 lines were dropped/)]);
    expect(client.stats()).toEqual({ connected: true, buffered: 0, sent: 3, dropped: 0 });
  });

  it('delivers a period larger than the arguments limit of a function call', async () => {
    const carbon = await listen();
    const client = sink(carbon.port, new RecordingLogger(), 200_000);
    await client.open();
    const lines = Array.from({ length: 150_000 }, (_, i) => `series_${i} ${i} 1`);
    await client.write(lines);
    await waitFor(() => carbon.lines.length === lines.length, 'every line', 20_000);
    expect(carbon.lines.at(-1)).toBe('series_149999 149999 1');
    expect(client.stats()).toMatchObject({ sent: 150_000, dropped: 0 });
  });

  it('keeps only the newest lines up to the bound while carbon is down, and counts the rest', async () => {
    const port = await closedPort();
    const logger = new RecordingLogger();
    const client = sink(port, logger, 3);
    await client.open();
    await client.write(['l1 1 1', 'l2 2 2']);
    await client.write(['l3 3 3', 'l4 4 4']);
    await client.write(['l5 5 5']);
    expect(client.stats()).toMatchObject({ connected: false, buffered: 3, dropped: 2 });

    const carbon = new CarbonListener();
    listeners.push(carbon);
    await carbon.start(port);
    await waitFor(() => carbon.lines.length === 3, 'the buffered lines');
    expect(carbon.lines).toEqual(['l3 3 3', 'l4 4 4', 'l5 5 5']);
    expect(logger.warnings).toHaveLength(1);
    expect(logger.infos).toEqual([expect.stringMatching(/2 lines were dropped during the outage/)]);
  });

  it('never fails the service when carbon is unreachable, and counts dropped lines in a metric', async () => {
    const port = await closedPort();
    const meters = new Meters({ serviceName: 'billing_api', processMetrics: false });
    meters.counter('jobs', { help: 'jobs' }).inc();
    const logger = new RecordingLogger();
    const reporters = reportersFor(meters, port, logger, 2);
    await reporters.start();
    // Each period is two lines: jobs_total and the dropped-lines counter itself.
    await reporters.push!.collectNow();
    await reporters.push!.collectNow();
    await reporters.push!.collectNow();
    expect(await sampleValue(meters, 'billing_api_metrics_carbon_dropped_lines_total')).toBe(4);
    await waitFor(() => logger.warnings.length > 0, 'the outage warning');
    await reporters.stop();
    expect(logger.warnings).toHaveLength(1);
    expect(reporters.carbon!.stats()).toMatchObject({ connected: false, buffered: 0, sent: 0 });
  });
});
