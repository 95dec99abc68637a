import type { Writable } from 'node:stream';

import type { LineSink } from './line-sink';

/** Writes each period's lines to a stream, stdout by default; never closes it. */
export class StreamSink implements LineSink {
  readonly description: string;

  constructor(
    private readonly stream: Writable = process.stdout,
    name = 'stdout',
  ) {
    this.description = name;
  }

  async open(): Promise<void> {}

  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stream.write(`${lines.join('\n')}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {}
}
