import { EtcdSettingsSource } from '../../../lib/settings/etcd-source';
import { until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';

const INSTANCES = 20;
/** retryUntil's default cap: after the first 3 s every wait is drawn under it. */
const MAX_DELAY_MS = 1000;

describeWithEtcd('the etcd wait at start, etcd down then back', () => {
  let cluster: EtcdCluster;

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
  }, 60_000);
  afterAll(() => cluster?.stop(), 30_000);

  it('spreads the attempts of 20 instances started together (no herd), and each connects once etcd is back', async () => {
    const [member] = cluster.members;
    await cluster.kill(member);
    const lines: string[][] = Array.from({ length: INSTANCES }, () => []);
    const opening = Array.from({ length: INSTANCES }, (_, index) =>
      EtcdSettingsSource.open(
        {
          hosts: [member.endpoint],
          prefix: '/keel/',
          waitMs: 60_000,
          callTimeoutMs: 300,
          stallTimeoutMs: 3000,
        },
        (line) => lines[index].push(line),
      ),
    );
    // Each says where it is once it has waited 3 s: the attempt that failed, and the next wait.
    await until(() => lines.every((said) => said.length > 0), 30_000, 'a progress line from every instance');
    await cluster.restart(member);
    const sources = await Promise.all(opening);
    for (const source of sources) source.close();

    const waits = lines.map((said) => Number(/next attempt in (\d+) ms/.exec(said[0])![1]));
    expect(waits.every((wait) => wait >= 0 && wait < MAX_DELAY_MS)).toBe(true);
    // Full jitter: twenty waits of the same step spread over their window, not at one point of it.
    expect(new Set(waits).size).toBeGreaterThanOrEqual(12);
    expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThan(MAX_DELAY_MS * 0.4);
    // Nor do the instances stand at the same attempt: their schedules drifted apart.
    const attempts = lines.map((said) => Number(/attempt (\d+) failed/.exec(said[0])![1]));
    expect(new Set(attempts).size).toBeGreaterThan(1);
  }, 90_000);
});
