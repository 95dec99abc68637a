import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { LineSink } from './line-sink';

/** Appends each period's lines to a file and flushes them to disk before the next period. */
export class FileSink implements LineSink {
  readonly description: string;
  private handle: FileHandle | undefined;

  constructor(private readonly path: string) {
    this.description = `file ${path}`;
  }

  /** Fails when the file cannot be opened: a wrong path is a settings error to see at start. */
  async open(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    this.handle = await open(this.path, 'a');
  }

  async write(lines: readonly string[]): Promise<void> {
    if (this.handle === undefined || lines.length === 0) return;
    await this.handle.appendFile(`${lines.join('\n')}\n`);
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
