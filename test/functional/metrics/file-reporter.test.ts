import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FileSink, Meters, MetricsReporters } from '../../../lib/metrics';
import { RecordingLogger } from '../../unit/metrics/recording-logger';
import { metricsSettings } from '../../unit/metrics/sample';

describe('file reporter in a temp dir', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-metrics-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function reporters(meters: Meters, path: string): MetricsReporters {
    const settings = metricsSettings({
      collect_frequency: 3600,
      handlers: { file: { enabled: true, path } },
    });
    return new MetricsReporters(meters, settings, {
      serviceName: 'billing_api',
      deployName: 'dev',
      hostname: 'box',
      logger: new RecordingLogger(),
    });
  }

  it('appends one block of carbon lines per period, readable on disk before the next', async () => {
    const path = join(dir, 'nested', 'metrics.txt');
    const meters = new Meters({ serviceName: 'billing_api', processMetrics: false });
    const jobs = meters.counter('jobs', { help: 'jobs' });
    const reporter = reporters(meters, path);
    await reporter.start();
    jobs.inc();
    await reporter.push!.collectNow();
    expect((await readFile(path, 'utf8')).split('\n')).toEqual([
      expect.stringMatching(/^dev\.billing_api\.box\.jobs_total 1 \d+$/),
      '',
    ]);
    jobs.inc();
    await reporter.stop();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      'dev.billing_api.box.jobs_total 1',
      'dev.billing_api.box.jobs_total 2',
    ]);
  });

  it('appends to what a previous run wrote', async () => {
    const path = join(dir, 'metrics.txt');
    await writeFile(path, 'earlier 1 1\n');
    const meters = new Meters({ serviceName: 'billing_api', processMetrics: false });
    meters.gauge('up', { help: 'up' }).set(1);
    const reporter = reporters(meters, path);
    await reporter.start();
    await reporter.stop();
    expect((await readFile(path, 'utf8')).split('\n')).toEqual([
      'earlier 1 1',
      expect.stringMatching(/^dev\.billing_api\.box\.up 1 \d+$/),
      '',
    ]);
  });

  it('fails to start when the file cannot be opened, naming the cause', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    await expect(new FileSink(join(blocker, 'metrics.txt')).open()).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
