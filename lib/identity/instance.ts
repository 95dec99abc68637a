import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Who wrote a record, a metric line or a registry entry: this process, this build. */
export interface InstanceIdentity {
  /** Random, fixed for the life of the process. */
  readonly instance_id: string;
  /** `version` of the package.json in the working directory. */
  readonly version?: string;
  /** The REVISION file of the working directory, else the commit git has checked out there. */
  readonly revision?: string;
}

let identity: InstanceIdentity | undefined;

/**
 * Read once, synchronously, on first use: the first log record already carries it. The git
 * revision is read from `.git` files rather than by running git, which would cost a child process
 * on every start.
 */
export function instanceIdentity(): InstanceIdentity {
  identity ??= readIdentity(process.cwd());
  return identity;
}

function readIdentity(root: string): InstanceIdentity {
  const version = packageVersion(path.join(root, 'package.json'));
  const revision = readText(path.join(root, 'REVISION')) ?? gitRevision(root);
  return {
    instance_id: randomUUID(),
    ...(version !== undefined && { version }),
    ...(revision !== undefined && { revision }),
  };
}

function packageVersion(file: string): string | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    const { version } = JSON.parse(text) as { version?: unknown };
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

const COMMIT = /^[0-9a-f]{40,64}$/;

/** HEAD of the checkout at `root`: a plain clone, or a worktree whose `.git` file points at its git dir. */
function gitRevision(root: string): string | undefined {
  const dotGit = path.join(root, '.git');
  const pointer = readText(dotGit)?.match(/^gitdir: (.+)$/m)?.[1];
  const gitDir = pointer === undefined ? dotGit : path.resolve(root, pointer);
  const commonDir = path.resolve(gitDir, readText(path.join(gitDir, 'commondir')) ?? '.');
  const head = readText(path.join(gitDir, 'HEAD'));
  if (head === undefined) return undefined;
  const ref = head.match(/^ref: (.+)$/)?.[1];
  if (ref === undefined) return COMMIT.test(head) ? head : undefined;
  const loose = readText(path.join(gitDir, ref)) ?? readText(path.join(commonDir, ref));
  if (loose !== undefined && COMMIT.test(loose)) return loose;
  const packed = readText(path.join(commonDir, 'packed-refs'));
  const line = packed?.split('\n').find((entry) => entry.endsWith(` ${ref}`));
  return line?.split(' ')[0];
}
