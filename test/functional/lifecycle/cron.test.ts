import {
  type App,
  cron,
  GraphError,
  LifecycleError,
  Microservice,
  microservice,
  resource,
  Test,
} from '../../../lib';
import { ManualClock } from '../../../lib/testing';
import { deferred, quietLog, until } from '../../support/async';

const EVERY_TWO_SECONDS = '*/2 * * * * *';
/** Half a second past midnight: the first two-second tick is at 00:00:02. */
const START = Date.UTC(2026, 0, 1, 0, 0, 0, 500);
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds)).toISOString();

async function started(Service: new () => Microservice, clock: ManualClock): Promise<App> {
  const app = await Test.createMicroservice(Service, { clock, log: quietLog() })
    .withSettings({ system: { resources: { report_server: { port: 0 } } } })
    .start();
  await until(() => clock.waiting > 0, 5000, 'the schedule asleep on the clock');
  return app;
}

function runs(metrics: string, task: string, outcome: string): number {
  const line = new RegExp(
    `cron_runs_total\\{[^}]*task="${task}"[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`,
  ).exec(metrics);
  return line === null ? 0 : Number(line[1]);
}

describe('@cron schedules on a clock the test moves', () => {
  const apps: App[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.stop()));
  });

  it('a two-second schedule runs at every tick of the grid, given its tick', async () => {
    const ticks: string[] = [];
    @microservice({ name: 'reports' })
    class Reports extends Microservice {
      @cron(EVERY_TWO_SECONDS)
      report(_signal: AbortSignal, tick: Date): void {
        ticks.push(tick.toISOString());
      }
    }
    const clock = new ManualClock(START);
    const app = await started(Reports, clock);
    apps.push(app);
    await clock.advance(10_000);
    expect(ticks).toEqual([at(2), at(4), at(6), at(8), at(10)]);
    expect(runs(await app.meters.render(), 'report', 'ok')).toBe(5);
  });

  it('no overlap: ticks during a run are skipped and counted; the grid is kept', async () => {
    const ticks: string[] = [];
    const hold = deferred<void>();
    @microservice({ name: 'slow_reports' })
    class SlowReports extends Microservice {
      @cron(EVERY_TWO_SECONDS, { name: 'slow' })
      async report(_signal: AbortSignal, tick: Date): Promise<void> {
        ticks.push(tick.toISOString());
        if (ticks.length === 1) await hold.promise;
      }
    }
    const clock = new ManualClock(START);
    const app = await started(SlowReports, clock);
    apps.push(app);
    await clock.advance(6000);
    expect(ticks).toEqual([at(2)]);
    expect(runs(await app.meters.render(), 'slow', 'skipped')).toBe(2);
    hold.resolve();
    await clock.advance(2000);
    expect(ticks).toEqual([at(2), at(8)]);
  });

  it('catchUp: the last tick skipped during a run is run once the run ends', async () => {
    const ticks: string[] = [];
    const hold = deferred<void>();
    @microservice({ name: 'catching_up' })
    class CatchingUp extends Microservice {
      @cron(EVERY_TWO_SECONDS, { catchUp: true })
      async report(_signal: AbortSignal, tick: Date): Promise<void> {
        ticks.push(tick.toISOString());
        if (ticks.length === 1) await hold.promise;
      }
    }
    const clock = new ManualClock(START);
    const app = await started(CatchingUp, clock);
    apps.push(app);
    await clock.advance(6000);
    hold.resolve();
    await until(() => ticks.length === 2, 5000, 'the catch-up run');
    expect(ticks).toEqual([at(2), at(6)]);
  });

  it('overlap: true starts a run beside the one still going', async () => {
    const running: string[] = [];
    const hold = deferred<void>();
    @microservice({ name: 'overlapping' })
    class Overlapping extends Microservice {
      @cron(EVERY_TWO_SECONDS, { overlap: true })
      async report(_signal: AbortSignal, tick: Date): Promise<void> {
        running.push(tick.toISOString());
        await hold.promise;
      }
    }
    const clock = new ManualClock(START);
    const app = await started(Overlapping, clock);
    apps.push(app);
    await clock.advance(6000);
    expect(running).toEqual([at(2), at(4), at(6)]);
    hold.resolve();
  });

  it('a run that throws is counted and logged; the schedule goes on', async () => {
    @microservice({ name: 'failing' })
    class Failing extends Microservice {
      @cron(EVERY_TWO_SECONDS)
      report(): void {
        throw new Error('the report cannot be made');
      }
    }
    const clock = new ManualClock(START);
    const app = await started(Failing, clock);
    apps.push(app);
    await clock.advance(4000);
    expect(runs(await app.meters.render(), 'report', 'error')).toBe(2);
    expect(app.status().state).toBe('running');
  });

  it('timezone: 09:00 in New York is 14:00 UTC in January', async () => {
    const ticks: string[] = [];
    @microservice({ name: 'morning' })
    class Morning extends Microservice {
      @cron('0 0 9 * * *', { timezone: 'America/New_York' })
      report(_signal: AbortSignal, tick: Date): void {
        ticks.push(tick.toISOString());
      }
    }
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const app = await started(Morning, clock);
    apps.push(app);
    await clock.advance(24 * 3600_000);
    expect(ticks).toEqual(['2026-01-01T14:00:00.000Z']);
  });

  it('stop aborts the run in flight and waits for it; no tick runs after', async () => {
    const ended: string[] = [];
    @microservice({ name: 'stopping' })
    class Stopping extends Microservice {
      @cron(EVERY_TWO_SECONDS)
      async report(signal: AbortSignal): Promise<void> {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        ended.push(signal.aborted ? 'aborted' : 'done');
      }
    }
    const clock = new ManualClock(START);
    const app = await started(Stopping, clock);
    await clock.advance(2000);
    await app.stop();
    expect(ended).toEqual(['aborted']);
    expect(clock.waiting).toBe(0);
  });

  it('a bad expression or time zone, or @cron on a resource, is a graph error before any constructor', async () => {
    const built: string[] = [];
    const failure = async (Service: new () => Microservice) =>
      Test.createMicroservice(Service)
        .start()
        .catch((error: unknown) => error);
    @microservice({ name: 'bad_expression' })
    class BadExpression extends Microservice {
      constructor() {
        super();
        built.push('service');
      }
      @cron('every tuesday')
      report(): void {}
    }
    const bad = await failure(BadExpression);
    expect(bad).toBeInstanceOf(GraphError);
    expect(bad).toMatchObject({ code: 'INVALID_CRON' });
    expect(String(bad)).toContain("bad_expression.report: @cron('every tuesday') is not a schedule");

    @microservice({ name: 'bad_zone' })
    class BadZone extends Microservice {
      @cron('0 9 * * *', { timezone: 'Mars/Olympus_Mons' })
      report(): void {}
    }
    expect(await failure(BadZone)).toMatchObject({ code: 'INVALID_CRON' });

    @resource()
    class Reporter {
      @cron('0 9 * * *')
      report(): void {}
    }
    @microservice({ name: 'misplaced', resources: { reporter: Reporter } })
    class Misplaced extends Microservice {}
    expect(await failure(Misplaced)).toMatchObject({ code: 'MISPLACED_TASK' });
    expect(built).toEqual([]);
  });

  it("fleet: 'one' without KEEL_ETCD_HOSTS fails the creation, naming the schedule", async () => {
    @microservice({ name: 'fleet_without_etcd' })
    class FleetWithoutEtcd extends Microservice {
      @cron('0 9 * * *', { fleet: 'one' })
      report(): void {}
    }
    const failure = await Test.createMicroservice(FleetWithoutEtcd, { env: {} })
      .start()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LifecycleError);
    expect(failure).toMatchObject({ code: 'CRON_FLEET_NO_ETCD' });
    expect(String(failure)).toContain("report have fleet: 'one'");
  });
});
