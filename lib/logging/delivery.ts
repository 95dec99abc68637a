/**
 * Counts records a stream accepted and those it finished with (written, sent, or dropped), so
 * `flush()` can wait for exactly what was logged before it was called, not for an idle moment
 * that never comes under steady traffic.
 */
export class DeliveryTracker {
  private accepted = 0;
  private settled = 0;
  private readonly waiters: { target: number; resolve: () => void }[] = [];

  accept(count = 1): void {
    this.accepted += count;
  }

  settle(count: number): void {
    this.settled += count;
    // Targets only grow over time, so the satisfied waiters are always at the front.
    while (this.waiters.length > 0 && this.waiters[0].target <= this.settled) this.waiters.shift()!.resolve();
  }

  /** A write callback, made once per stream rather than a closure per record, that settles one record. */
  writeCallback(onError: (error: Error) => void): (error?: Error | null) => void {
    return (error) => {
      if (error) onError(error);
      this.settle(1);
    };
  }

  /** Records accepted and not yet written, sent or dropped. */
  unsettled(): number {
    return Math.max(0, this.accepted - this.settled);
  }

  /** Resolves once everything accepted so far is settled. */
  whenSettled(): Promise<void> {
    if (this.settled >= this.accepted) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target: this.accepted, resolve }));
  }
}
