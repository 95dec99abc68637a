import type { ReporterLogger } from '../../../lib/metrics';

/** A logger that keeps what the reporters said, to assert on warnings. */
export class RecordingLogger implements ReporterLogger {
  readonly warnings: string[] = [];
  readonly infos: string[] = [];

  warn(message: string): void {
    this.warnings.push(message);
  }

  info(message: string): void {
    this.infos.push(message);
  }
}

/** Polls `check` until it holds; bounded so a broken reporter fails the test instead of hanging it. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
