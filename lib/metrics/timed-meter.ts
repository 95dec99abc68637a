import { type Instrument, instrument } from './instrument';
import { Meter } from './meter';
import { stopwatch } from './stopwatch';

/** A meter that can record how long something took, in seconds. */
export abstract class TimedMeter<Self, P, L extends string = string> extends Meter<Self, P, L> {
  /** As decorator (`@m.timeit()`) on sync or async methods, or wrapper (`m.timeit(fn)`). */
  readonly timeit: Instrument = instrument(() => this.startTimer());

  /** Starts a timer; calling the result records the seconds elapsed and returns them. */
  startTimer(): () => number {
    this.assertComplete();
    const elapsed = stopwatch();
    return () => {
      const seconds = elapsed();
      this.recordDuration(seconds);
      return seconds;
    };
  }

  protected abstract recordDuration(seconds: number): void;
}
