import {
  Microservice,
  microservice,
  resource,
  ResourceStatus,
  StatusResource,
  Test,
  type App,
} from '../../../lib';
import { quietLog } from '../../support/async';

const starts = { count: 0 };

/** Always FAILED: every check finds it failing, so only the policy's backoff spaces its restarts. */
@resource()
class Broken {
  start(): void {
    starts.count++;
  }

  status(): ResourceStatus {
    return ResourceStatus.FAILED;
  }
}

@microservice({ name: 'patient', resources: { broken: Broken } })
class Patient extends Microservice {}

describe('restart policies', () => {
  let app: App;
  const records: { level: string; message: string; fields: object }[] = [];

  beforeAll(async () => {
    app = await Test.createMicroservice(Patient, { log: quietLog(records) })
      .withSettings({
        system: {
          resources: {
            status: {
              // The checks are made by the test, not by the timer.
              check_interval_ms: 3_600_000,
              restart_policy: {
                resources: { restart_resource_on_failure: ['broken'] },
                max_restarts: 5,
                window_ms: 3_600_000,
                backoff_ms: 3_600_000,
                max_backoff_ms: 3_600_000,
              },
            },
          },
        },
      })
      .start();
  });

  afterAll(() => app?.stop());

  it('restart a failing resource at once, then wait their backoff instead of restarting it at every check', async () => {
    const status = app.get(StatusResource);
    expect(starts.count).toBe(1);
    await status.check();
    expect(starts.count).toBe(2);
    for (let check = 0; check < 5; check++) await status.check();
    // Still within the first backoff (drawn under an hour): no second restart, and no escalation.
    expect(starts.count).toBe(2);
    expect(records.filter(({ message }) => /restarting the service/.test(message))).toEqual([]);
    const restarted = records.filter(({ message }) => /: restarted \(should it fail again/.test(message));
    expect(restarted).toHaveLength(1);
    expect((restarted[0].fields as { next_restart_after_ms: number }).next_restart_after_ms).toBeLessThan(
      3_600_000,
    );
  });
});
