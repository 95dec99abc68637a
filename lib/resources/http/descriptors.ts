import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';

/** How often the process's descriptors are counted while a server listens. */
export const DESCRIPTOR_CHECK_MS = 5000;

/** What the watch tells: the process ran out of descriptors, or has some again. */
export interface DescriptorState {
  exhausted: boolean;
  /** Descriptors open, when they could be counted. */
  open?: number;
  /** The soft limit (`ulimit -n`), when the system tells it. */
  limit?: number;
}

/**
 * Out of descriptors, libuv accepts each new connection and closes it at once (its EMFILE trick),
 * so node's server never hears of it and clients see resets with nothing logged. This counts the
 * process's descriptors (`/proc/self/fd`) against its soft limit and tells each change of state once;
 * where there is no `/proc` it does nothing.
 */
export class DescriptorWatch {
  private timer?: NodeJS.Timeout;
  private exhausted = false;
  private limit?: number;

  constructor(private readonly onChange: (state: DescriptorState) => void) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.limit = softLimit();
    this.timer = setInterval(() => void this.check(), DESCRIPTOR_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    let open: number | undefined;
    try {
      open = (await readdir('/proc/self/fd')).length;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Reading the folder takes a descriptor: failing for want of one is the answer itself.
      if (code !== 'EMFILE' && code !== 'ENFILE') return this.stop();
    }
    const exhausted = open === undefined || (this.limit !== undefined && open >= this.limit);
    if (exhausted === this.exhausted || this.timer === undefined) return;
    this.exhausted = exhausted;
    this.onChange({ exhausted, open, limit: this.limit });
  }
}

function softLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line === null ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}
