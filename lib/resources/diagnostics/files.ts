import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** `directory` as set, or a folder of the temp directory named after the service. */
export function outputDirectory(directory: string, service: string): string {
  return directory !== '' ? path.resolve(directory) : path.join(tmpdir(), `keel-${service}`);
}

/**
 * Files of one kind (`.cpuprofile`, `.heapsnapshot`) in one directory, at most `maxFiles` of them:
 * writing one more deletes the oldest. Names sort by time, so the oldest is the first.
 */
export class BoundedFiles {
  constructor(
    readonly directory: string,
    private readonly stem: string,
    private readonly extension: string,
    private readonly maxFiles: number,
  ) {}

  /** A new file name; `write` or the caller fills it. */
  async next(): Promise<string> {
    await mkdir(this.directory, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return path.join(this.directory, `${this.stem}-${stamp}-${process.pid}${this.extension}`);
  }

  async write(text: string): Promise<{ file: string; bytes: number }> {
    const file = await this.next();
    await writeFile(file, text);
    await this.prune();
    return { file, bytes: Buffer.byteLength(text) };
  }

  /** Deletes the oldest files beyond the bound. */
  async prune(): Promise<void> {
    const ours = (await readdir(this.directory))
      .filter((name) => name.startsWith(`${this.stem}-`) && name.endsWith(this.extension))
      .sort();
    const excess = ours.slice(0, Math.max(0, ours.length - this.maxFiles));
    await Promise.all(excess.map((name) => rm(path.join(this.directory, name), { force: true })));
  }

  async size(file: string): Promise<number> {
    return (await stat(file)).size;
  }
}

/** `file:///srv/app/lib/x.js` → `lib/x.js` when under the working directory; node internals stay as they are. */
export function shortLocation(url: string, line: number): string {
  const file = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const relative = file.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), file) : file;
  return `${relative || '(native)'}:${line + 1}`;
}
