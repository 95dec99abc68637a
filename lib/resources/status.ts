import { inject } from '../container/injection';
import { resource } from '../container/decorators';
import { LOGGER, SERVICE, SETTINGS } from '../container/tokens';
import { messageOf } from '../util';
import type { Log } from '../lifecycle/log';
import type { ServiceHandle } from '../lifecycle/service-handle';
import { ResourceStatus } from '../lifecycle/status';
import { backoffDelay } from '../resilience/backoff';
import type { SettingsView } from '../settings/types';

export const statusSchema = {
  restart_policy: {
    resources: {
      restart_microservice_on_failure: {
        doc: 'Resources whose FAILED status stops the service gracefully with exit code 2',
        format: Array,
        default: [] as string[],
      },
      restart_resource_on_failure: {
        doc: 'Resources restarted (with what depends on them) when they report FAILED',
        format: Array,
        default: [] as string[],
      },
    },
    max_restarts: {
      doc: 'Restarts of one resource within window_ms after which the service is restarted instead',
      format: 'nat',
      default: 3,
    },
    window_ms: { doc: 'Window over which restarts are counted', format: 'duration', default: 60_000 },
    backoff_ms: {
      doc: 'Ceiling of the wait before the second restart of a resource within window_ms (full jitter under it; the first is at once); doubled for each next one',
      format: 'duration',
      default: 1000,
    },
    max_backoff_ms: {
      doc: 'Longest wait between two restarts of a resource',
      format: 'duration',
      default: 30_000,
    },
  },
  check_interval_ms: { doc: 'How often resource statuses are checked', format: 'duration', default: 1000 },
};

interface StatusSettings {
  restart_policy: {
    resources: { restart_microservice_on_failure: string[]; restart_resource_on_failure: string[] };
    max_restarts: number;
    window_ms: number;
    backoff_ms: number;
    max_backoff_ms: number;
  };
  check_interval_ms: number;
}

/** Exit code of a service stopped by a restart policy, so that its supervisor starts it again. */
const RESTART_EXIT_CODE = 2;

/**
 * Applies the restart policies: checks every resource's status while the service runs, restarts
 * the resources listed for it (a second restart within `window_ms` after a jittered, growing wait), and stops the service (exit 2) for those listed for that, or when
 * a resource keeps failing after its restarts.
 */
@resource({ settings: statusSchema, name: 'status' })
export class StatusResource {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private readonly restartTimes = new Map<string, number[]>();
  /** When each resource restarted recently may be restarted again: the policy module's jittered schedule. */
  private readonly restartDue = new Map<string, number>();

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<StatusSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
  ) {}

  /** Checks begin once everything has started, so a resource still connecting is never judged. */
  postStart(): void {
    const interval = this.settings.value().check_interval_ms;
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    }, interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** One pass over the statuses; exposed for tests and for an operator's manual check. */
  async check(): Promise<void> {
    if (this.service.state() !== 'running') return;
    const policy = this.settings.value().restart_policy;
    const failed = this.service.status().resources.filter((row) => row.status === ResourceStatus.FAILED);
    for (const row of failed) {
      const why = `resource '${row.name}' FAILED${row.statusText ? ` (${row.statusText})` : ''}`;
      if (policy.resources.restart_microservice_on_failure.includes(row.name)) {
        this.service.requestStop(`${why}: restart_microservice_on_failure`, RESTART_EXIT_CODE);
        return;
      }
      if (!policy.resources.restart_resource_on_failure.includes(row.name)) continue;
      const recent = this.recentRestarts(row.name, policy.window_ms);
      if (recent >= policy.max_restarts) {
        this.service.requestStop(
          `${why} after ${policy.max_restarts} restarts within ${policy.window_ms} ms: restarting the service`,
          RESTART_EXIT_CODE,
        );
        return;
      }
      if (recent > 0 && Date.now() < (this.restartDue.get(row.name) ?? 0)) continue;
      this.restartTimes.get(row.name)!.push(Date.now());
      const waitMs = backoffDelay({ initialMs: policy.backoff_ms, maxMs: policy.max_backoff_ms }, recent + 1);
      this.restartDue.set(row.name, Date.now() + waitMs);
      try {
        await this.service.restartResource(row.name);
        this.log.info(
          { restarted: row.name, next_restart_after_ms: waitMs },
          `${why}: restarted (should it fail again, the next restart waits ${waitMs} ms)`,
        );
      } catch (error) {
        this.log.error({ err: error, restarted: row.name }, `${why}: restart failed: ${messageOf(error)}`);
      }
    }
  }

  private recentRestarts(name: string, windowMs: number): number {
    const since = Date.now() - windowMs;
    const recent = (this.restartTimes.get(name) ?? []).filter((time) => time >= since);
    this.restartTimes.set(name, recent);
    return recent.length;
  }
}
