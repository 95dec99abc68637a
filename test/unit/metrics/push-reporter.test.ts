import { PassThrough, Writable } from 'node:stream';

import { Meters, MetricsReporters, PushReporter, StreamSink } from '../../../lib/metrics';
import { RecordingLogger, waitFor } from './recording-logger';
import { metricsSettings as settings } from './sample';

function capture(stream: PassThrough): string[] {
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return chunks;
}

describe('PushReporter', () => {
  it('pushes on its period and once more on stop, with what changed since', async () => {
    const out = new PassThrough();
    const chunks = capture(out);
    let value = 0;
    const reporter = new PushReporter({
      collect: async () => [`jobs ${value}`],
      sinks: [new StreamSink(out)],
      periodSeconds: 0.02,
      logger: new RecordingLogger(),
    });
    await reporter.start();
    await waitFor(() => chunks.length >= 2, 'two periods');
    value = 42;
    await reporter.stop();
    expect(chunks.at(-1)).toBe('jobs 42\n');
    const pushed = chunks.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(chunks).toHaveLength(pushed);
  });

  it('warns once while a sink keeps failing and keeps feeding the others', async () => {
    const flaky = new Writable({
      write(_chunk, _encoding, done) {
        done(new Error('disk full'));
      },
    });
    flaky.on('error', () => undefined);
    const healthy = new PassThrough();
    const chunks = capture(healthy);
    const logger = new RecordingLogger();
    const reporter = new PushReporter({
      collect: async () => ['line 1'],
      sinks: [new StreamSink(flaky, 'flaky'), new StreamSink(healthy)],
      periodSeconds: 3600,
      logger,
    });
    await reporter.start();
    await reporter.collectNow();
    await reporter.collectNow();
    await reporter.collectNow();
    expect(logger.warnings).toEqual(['metrics: writing to flaky failed: disk full']);
    await reporter.stop();
    expect(chunks).toHaveLength(4);
    expect(logger.warnings).toHaveLength(1);
  });

  it('warns when collecting fails and carries on', async () => {
    const logger = new RecordingLogger();
    const reporter = new PushReporter({
      collect: async () => {
        throw new Error('collector crashed');
      },
      sinks: [new StreamSink(new PassThrough())],
      periodSeconds: 3600,
      logger,
    });
    await reporter.start();
    await reporter.stop();
    expect(logger.warnings).toEqual(['metrics: collecting for the push reporters failed: collector crashed']);
  });

  it('joins the period in progress instead of collecting twice at once', async () => {
    let collections = 0;
    const reporter = new PushReporter({
      collect: async () => {
        collections += 1;
        return [];
      },
      sinks: [],
      periodSeconds: 3600,
      logger: new RecordingLogger(),
    });
    await Promise.all([reporter.collectNow(), reporter.collectNow()]);
    expect(collections).toBe(1);
  });
});

describe('MetricsReporters', () => {
  it('writes carbon-format lines to stdout when the stdout handler is on', async () => {
    const meters = new Meters({ serviceName: 'billing_api', processMetrics: false });
    meters.counter('jobs', { help: 'jobs' }).inc(3);
    const out = new PassThrough();
    const chunks = capture(out);
    const reporters = new MetricsReporters(meters, settings({ handlers: { stdout: { enabled: true } } }), {
      serviceName: 'billing_api',
      deployName: 'dev',
      hostname: 'box',
      logger: new RecordingLogger(),
      stdout: out,
    });
    expect(reporters.prometheusEnabled).toBe(true);
    await reporters.start();
    await reporters.stop();
    expect(chunks.join('')).toMatch(/^dev\.billing_api\.box\.jobs_total 3 \d+\n$/);
  });

  it('has no push reporter when no push handler is on', async () => {
    const meters = new Meters({ serviceName: 'billing_api', processMetrics: false });
    const reporters = new MetricsReporters(
      meters,
      settings({ handlers: { prometheus: { enabled: false } } }),
      {
        serviceName: 'billing_api',
        deployName: 'dev',
        logger: new RecordingLogger(),
      },
    );
    expect(reporters.prometheusEnabled).toBe(false);
    expect(reporters.push).toBeUndefined();
    await reporters.start();
    await reporters.stop();
  });
});
