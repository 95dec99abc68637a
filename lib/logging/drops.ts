/** Records a stream gave up on, by stream name; read by the metrics layer, never reset. */
export class DropCounter {
  private readonly counts = new Map<string, number>();

  add(stream: string, count: number): void {
    this.counts.set(stream, (this.counts.get(stream) ?? 0) + count);
  }

  of(stream: string): number {
    return this.counts.get(stream) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
