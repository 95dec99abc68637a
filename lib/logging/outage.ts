export type Warn = (message: string, fields?: Record<string, unknown>) => void;

/**
 * One warning when a remote stream starts failing and one line when it is back, however many
 * records fail in between: the warning goes to stderr, not back into the failing stream.
 */
export class OutageReporter {
  private droppedAtStart: number | undefined;

  constructor(
    private readonly stream: string,
    private readonly warn: Warn,
    private readonly dropped: () => number,
  ) {}

  get inOutage(): boolean {
    return this.droppedAtStart !== undefined;
  }

  /** Call before counting the drop it causes, so the count reported at recovery includes it. */
  trouble(reason: string, consequence: string): void {
    if (this.inOutage) return;
    this.droppedAtStart = this.dropped();
    this.warn(`${this.stream} is failing (${reason}); ${consequence}`, { stream: this.stream, reason });
  }

  clear(): void {
    if (this.droppedAtStart === undefined) return;
    const dropped = this.dropped() - this.droppedAtStart;
    this.droppedAtStart = undefined;
    this.warn(`${this.stream} works again; ${dropped} records were dropped meanwhile`, {
      stream: this.stream,
      dropped,
    });
  }
}
