import { loadAmqplib } from '../../../lib/resources/amqp/connection/amqplib';
import { Link } from '../../../lib/resources/amqp/connection/link';
import { quietLog } from '../../support/async';
import { closedPort } from '../../support/etcd';

jest.setTimeout(30_000);

const MIN_MS = 200;
const ATTEMPTS = 4;

describe('AMQP reconnect schedule', () => {
  it('spreads 20 instances that lose the broker together: the waits amqplib is given are jittered', async () => {
    const port = await closedPort();
    const schedules = await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const records: { level: string; message: string; fields: object }[] = [];
        const link = new Link({
          resource: `amqp_${index}`,
          url: `amqp://guest:guest@127.0.0.1:${port}`,
          heartbeatS: 0,
          confirm: true,
          exchange: 'keel.events',
          reconnect: { min_ms: MIN_MS, max_ms: 5000, start_attempts: ATTEMPTS },
          log: quietLog(records),
          onConnect: async () => undefined,
          transport: loadAmqplib(`amqp_${index}`),
        });
        await expect(link.open()).rejects.toMatchObject({ code: 'AMQP_CONNECT_FAILED' });
        return records
          .map((record) => record.fields as { attempt?: number; delay_ms?: number })
          .filter((fields) => fields.delay_ms !== undefined)
          .map((fields) => fields.delay_ms!);
      }),
    );
    for (const schedule of schedules) expect(schedule).toHaveLength(ATTEMPTS - 1);
    for (let step = 0; step < ATTEMPTS - 1; step++) {
      const ceiling = MIN_MS * 2 ** step;
      const delays = schedules.map((schedule) => schedule[step]);
      expect(delays.every((delay) => delay >= 0 && delay < ceiling)).toBe(true);
      // No herd: the 20 waits of one step are spread over their window, not at one point of it.
      expect(new Set(delays).size).toBeGreaterThanOrEqual(12);
      expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(ceiling * 0.4);
    }
  });
});
