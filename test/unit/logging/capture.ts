import { Writable } from 'node:stream';

/** A real writable stream that keeps each JSON line written to it, parsed. */
export class LineCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== ''),
    );
    callback();
  }

  get records(): Record<string, any>[] {
    return this.lines.map((line) => JSON.parse(line));
  }

  text(): string {
    return this.lines.map((line) => `${line}\n`).join('');
  }
}

/** Polls `condition` until it holds; the timeout only bounds the wait, it is not what the test checks. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
