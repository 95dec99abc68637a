import type { Clock } from '../lifecycle/clock';

interface Sleeper {
  due: number;
  wake: () => void;
}

/**
 * A clock that moves only when the test says: `createMicroservice(S, { clock })` (or
 * `Test.createMicroservice(S, { clock })`) makes `@cron` schedules read it, so a test of a
 * two-second schedule runs its ticks without waiting two seconds for each.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly sleepers = new Set<Sleeper>();

  /** `start`: the time it shows first (milliseconds since the epoch, or a date). */
  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        due: this.current + ms,
        wake: () => {
          this.sleepers.delete(sleeper);
          signal.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
      signal.addEventListener('abort', sleeper.wake, { once: true });
    });
  }

  /** How many schedules are asleep on it now. */
  get waiting(): number {
    return this.sleepers.size;
  }

  /**
   * Moves the time forward by `ms`, waking each sleeper at its due time in turn, and lets the
   * work it wakes run (and sleep again) before the next: a schedule sees every tick on the way.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    // What the test set going just before (a run it let finish) comes first, as it would in real time.
    await settle();
    for (;;) {
      let next: Sleeper | undefined;
      for (const sleeper of this.sleepers)
        if (sleeper.due <= target && (next === undefined || sleeper.due < next.due)) next = sleeper;
      if (next === undefined) break;
      this.current = Math.max(this.current, next.due);
      next.wake();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** A few turns of the event loop: what a woken schedule does before it sleeps again. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
}
