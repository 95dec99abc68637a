import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** Started at: a tarball older than this process was packed by an earlier run. */
const PROCESS_START_MS = Date.now() - process.uptime() * 1000;
const CACHE_DIR = path.join(tmpdir(), `keel-pack-${process.pid}`);
/** `npm pack` rebuilds dist/ (prepack): one pack at a time across jest workers. */
const LOCK_DIR = path.join(tmpdir(), 'keel-pack.lock');

let packed: Promise<string> | undefined;

/**
 * The absolute path of a Keel tarball made by `npm pack` from this working tree (so with the
 * `prepack` build), made once per process (jest worker) and kept in a temporary folder.
 */
export function packKeel(): Promise<string> {
  packed ??= cachedTarball() ?? withLock(pack);
  return packed;
}

function cachedTarball(): Promise<string> | undefined {
  if (!existsSync(CACHE_DIR)) return undefined;
  const tarball = readdirSync(CACHE_DIR).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) return undefined;
  const file = path.join(CACHE_DIR, tarball);
  return statSync(file).mtimeMs >= PROCESS_START_MS ? Promise.resolve(file) : undefined;
}

async function pack(): Promise<string> {
  rmSync(CACHE_DIR, { recursive: true, force: true });
  mkdirSync(CACHE_DIR, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', CACHE_DIR], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }];
  return path.join(CACHE_DIR, filename);
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch {
      if (holderIsGone()) rmSync(LOCK_DIR, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${LOCK_DIR} held for 5 minutes`);
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
  try {
    return await work();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/** A holder that died (its pid file names no live process) leaves a lock that is taken over. */
function holderIsGone(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(LOCK_DIR, 'pid'), 'utf8'));
  } catch {
    return false; // just created by a live holder, which writes its pid next
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
