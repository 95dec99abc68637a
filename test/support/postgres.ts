import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePorts } from './ports';
import { describeWithServer, executable, killOnExit, stopChild, waitServer } from './servers';

/** The Debian package with `initdb` and `postgres`; they are not on PATH. */
export const POSTGRES_PACKAGE = 'postgresql';
const ROOT = '/usr/lib/postgresql';

/** The newest `/usr/lib/postgresql/<major>/bin` that has both binaries. */
export function postgresBin(): string | undefined {
  let majors: string[];
  try {
    majors = readdirSync(ROOT);
  } catch {
    return undefined;
  }
  return majors
    .filter((major) => /^\d+$/.test(major))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(ROOT, major, 'bin'))
    .find((bin) => executable(join(bin, 'initdb')) && executable(join(bin, 'postgres')));
}

export function describeWithPostgres(name: string, body: () => void): void {
  describeWithServer(
    name,
    {
      present: postgresBin() !== undefined,
      missing: `no ${ROOT}/*/bin/postgres`,
      debianPackage: POSTGRES_PACKAGE,
    },
    body,
  );
}

/** PostgreSQL refuses to run as root: as root the binaries run as the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A PostgreSQL server of the test's own: a cluster made by `initdb` in a temp folder, listening on
 * 127.0.0.1 and a free port, its Unix socket in a private folder; password (SCRAM) logins only.
 */
export class PostgresServer {
  readonly user = 'keel';
  readonly database = 'postgres';
  private child?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    readonly password: string,
    private readonly bin: string,
    private readonly root: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  static async start(): Promise<PostgresServer> {
    const bin = postgresBin();
    if (bin === undefined)
      throw new Error(`no ${ROOT}/*/bin/postgres: install the Debian package ${POSTGRES_PACKAGE}`);
    const [port] = await freePorts(1);
    const root = mkdtempSync(join(tmpdir(), 'keel-pg-'));
    const owner = runAs();
    const password = `pw-${process.pid}-${port}-secret`;
    const server = new PostgresServer(port, password, bin, root, owner);
    try {
      mkdirSync(join(root, 'socket'));
      writeFileSync(join(root, 'pwfile'), `${password}\n`);
      if (owner !== undefined)
        for (const path of [root, join(root, 'socket'), join(root, 'pwfile')])
          chownSync(path, owner.uid, owner.gid);
      server.initdb();
      await server.startServer();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** `postgres://keel:<password>@127.0.0.1:<port>/postgres`. */
  get url(): string {
    return `postgres://${this.user}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${this.database}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Fast shutdown (SIGINT): clients are disconnected, running queries aborted; the data stays. */
  async stopServer(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await stopChild(child, 'SIGINT');
  }

  /** Starts the server (again) on the same port and data, and waits until it answers a query. */
  async startServer(): Promise<void> {
    const args = [
      '-D',
      join(this.root, 'data'),
      '-p',
      String(this.port),
      '-k',
      join(this.root, 'socket'),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=60',
      // A test server: durability buys nothing and costs the suite time.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ];
    const child = spawn(join(this.bin, 'postgres'), args, {
      ...this.owner,
      env: { ...process.env, HOME: this.root, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-6000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    killOnExit(child);
    this.child = child;
    await waitServer(
      `PostgreSQL on port ${this.port}`,
      child,
      () => this.answers(),
      () => this.output,
    );
  }

  /** A client of the test's own, connected; the caller ends it. */
  async client(): Promise<Client> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    return client;
  }

  async stop(): Promise<void> {
    await this.stopServer();
    rmSync(this.root, { recursive: true, force: true });
  }

  private initdb(): void {
    try {
      execFileSync(
        join(this.bin, 'initdb'),
        [
          '-D',
          join(this.root, 'data'),
          '-U',
          this.user,
          `--pwfile=${join(this.root, 'pwfile')}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        { ...this.owner, env: { ...process.env, HOME: this.root, LC_ALL: 'C' }, stdio: 'pipe' },
      );
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`initdb failed:\n${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}`);
    }
  }

  private async answers(): Promise<boolean> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
