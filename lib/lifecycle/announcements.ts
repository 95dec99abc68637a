import { messageOf } from '../util';
import type { Log } from './log';

export type Work = () => Promise<void> | void;

/**
 * The work resources hand the service (`ServiceHandle.onReady`, `beforeStopping`, `onStopping`):
 * telling the outside the service is there or going, and draining before the resources stop.
 */
export class Announcements {
  private readonly ready: Work[] = [];
  private readonly beforeStopping: Work[] = [];
  private readonly stopping: Work[] = [];

  constructor(private readonly log: Log) {}

  onReady(work: Work): void {
    this.ready.push(work);
  }

  onBeforeStopping(work: Work): void {
    this.beforeStopping.push(work);
  }

  onStopping(work: Work): void {
    this.stopping.push(work);
  }

  /** Once every postStart is done; what fails is logged, the service goes on. */
  runReady(): Promise<void> {
    return this.runLogged(this.ready, 'ready');
  }

  /** When a stop begins, while the service still counts as ready; what fails is logged. */
  runBeforeStopping(): Promise<void> {
    return this.runLogged(this.beforeStopping, 'before-stopping');
  }

  /** Alongside the tasks' abort, before any stop hook; resolves with what each failure threw: stop failures. */
  async runStopping(): Promise<unknown[]> {
    return rejections(await settleAll(this.stopping));
  }

  private async runLogged(work: readonly Work[], when: string): Promise<void> {
    for (const reason of rejections(await settleAll(work)))
      this.log.error({ err: reason }, `${when} work failed: ${messageOf(reason)}`);
  }
}

function settleAll(work: readonly Work[]): Promise<PromiseSettledResult<void>[]> {
  return Promise.allSettled(work.map((item) => Promise.resolve().then(item)));
}

function rejections(outcomes: readonly PromiseSettledResult<void>[]): unknown[] {
  return outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
}
