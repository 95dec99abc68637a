import { chmod, lstat, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SettingsError } from '../../settings/errors';

/**
 * `directory` as set, or a folder named after the service in the temp directory of the service's
 * environment (its `TMPDIR`, else node's `tmpdir()`).
 */
export function outputDirectory(directory: string, service: string, env: NodeJS.ProcessEnv): string {
  if (directory !== '') return path.resolve(directory);
  const temp = env.TMPDIR !== undefined && env.TMPDIR !== '' ? path.resolve(env.TMPDIR) : tmpdir();
  return path.join(temp, `keel-${service}`);
}

/** Where a directory is set and whether Keel chose it (the default in the temp directory). */
export interface DirectorySetting {
  /** `system.resources.<name>.directory`, named when the directory is refused. */
  key: string;
  /** The resource whose setting it is. */
  owner: string;
  chosen: boolean;
}

/** The `directory` setting of the scope `view` is rooted at. */
export function directorySetting(scopePath: string, directory: string): DirectorySetting {
  return { key: `${scopePath}.directory`, owner: scopePath.split('.').at(-1)!, chosen: directory === '' };
}

/**
 * Files of one kind (`.cpuprofile`, `.heapsnapshot`) in one directory, at most `maxFiles` of them:
 * writing one more deletes the oldest. Names sort by time, so the oldest is the first. The files
 * hold what was in memory (secrets in clear), so the directory is kept private: see `ensurePrivate`.
 */
export class BoundedFiles {
  constructor(
    readonly directory: string,
    private readonly stem: string,
    private readonly extension: string,
    private readonly maxFiles: number,
    private readonly setting: DirectorySetting,
  ) {}

  /** A new file name; `write` or the caller fills it (and makes it 0600: `private`). */
  async next(): Promise<string> {
    // Checked before every file, not once: a temp directory cleaner may remove it while the service runs.
    await ensurePrivate(this.directory, this.setting);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return path.join(this.directory, `${this.stem}-${stamp}-${process.pid}${this.extension}`);
  }

  async write(text: string): Promise<{ file: string; bytes: number }> {
    const file = await this.next();
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
    await this.prune();
    return { file, bytes: Buffer.byteLength(text) };
  }

  /** Makes a file written by someone else (V8's heap snapshot writer) readable by this user only. */
  async private(file: string): Promise<void> {
    await chmod(file, 0o600);
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

/**
 * Creates `directory` 0700, or takes it as found only when it is a directory itself (a symbolic link
 * planted at a predictable path in the temp directory would choose where the files land), owned by
 * this user, and writable by nobody else. One Keel chose that others can read is made 0700; one
 * that fails a check is refused with a `SettingsError` naming the `directory` setting.
 */
export async function ensurePrivate(directory: string, setting: DirectorySetting): Promise<void> {
  await mkdir(path.dirname(directory), { recursive: true });
  try {
    await mkdir(directory, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const found = await lstat(directory);
  const uid = process.getuid?.();
  const problem = found.isSymbolicLink()
    ? 'is a symbolic link'
    : !found.isDirectory()
      ? 'is not a directory'
      : uid !== undefined && found.uid !== uid
        ? `belongs to user ${found.uid}, not to this process's user ${uid}`
        : (found.mode & 0o022) !== 0
          ? `can be written by other users (mode ${(found.mode & 0o777).toString(8)})`
          : undefined;
  if (problem !== undefined)
    throw new SettingsError(
      'SETTINGS_INVALID',
      `${setting.key}: ${directory} ${problem}; diagnostics files hold the process's memory, secrets included, so they go only to a directory of this user that nobody else can write in: remove it or set ${setting.key}`,
      [
        {
          path: setting.key,
          owner: setting.owner,
          problem: 'invalid',
          expected: 'a directory of this user that no other user can write in',
          origin: setting.chosen ? 'the default (the temp directory)' : 'the settings',
          shownValue: JSON.stringify(directory),
          reason: problem,
        },
      ],
    );
  if (setting.chosen && (found.mode & 0o077) !== 0) await chmod(directory, 0o700);
}

/** `file:///srv/app/lib/x.js` → `lib/x.js` when under the working directory; node internals stay as they are. */
export function shortLocation(url: string, line: number): string {
  const file = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const relative = file.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), file) : file;
  return `${relative || '(native)'}:${line + 1}`;
}
