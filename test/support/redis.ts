import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './ports';
import { describeWithServer, executable, killOnExit, stopChild, waitServer } from './servers';

/** The Debian package with `redis-server` (and `redis-cli`, through redis-tools). */
export const REDIS_PACKAGE = 'redis-server';
const SERVER = '/usr/bin/redis-server';
const CLI = '/usr/bin/redis-cli';

export function describeWithRedis(name: string, body: () => void): void {
  describeWithServer(
    name,
    {
      present: executable(SERVER) && executable(CLI),
      missing: `no ${SERVER} or ${CLI}`,
      debianPackage: REDIS_PACKAGE,
    },
    body,
  );
}

/** One redis-server process on 127.0.0.1, in its own folder, persisting nothing. */
class RedisProcess {
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: readonly string[],
    private readonly password: string | undefined,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    const child = spawn(SERVER, [...this.args], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-6000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    killOnExit(child);
    this.child = child;
    await waitServer(
      `redis-server on port ${this.port}`,
      child,
      () => this.answers(),
      () => this.output,
    );
  }

  /** SIGKILL: a crash, no goodbye to the clients. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await stopChild(child, 'SIGKILL');
  }

  /** A command through redis-cli; its reply as text. */
  async cli(...command: string[]): Promise<string> {
    const auth = this.password === undefined ? [] : ['--no-auth-warning', '-a', this.password];
    const { stdout } = await promisify(execFile)(CLI, [
      '-h',
      '127.0.0.1',
      '-p',
      String(this.port),
      ...auth,
      ...command,
    ]);
    return stdout.trim();
  }

  /** PING answered (NOAUTH counts: the server is up, it wants the password). */
  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port: this.port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (chunk: Buffer) => done(/^(\+PONG|-NOAUTH)/.test(chunk.toString())));
    });
  }
}

function serverArgs(port: number, password: string | undefined): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    ...(password === undefined ? [] : ['--requirepass', password]),
  ];
}

/** A standalone Redis of the test's own on a free port; `stopServer`/`startServer` keep the port. */
export class RedisServer {
  private constructor(
    private readonly process: RedisProcess,
    private readonly root: string,
    readonly password: string | undefined,
  ) {}

  static async start(options: { password?: string } = {}): Promise<RedisServer> {
    const [port] = await freePorts(1);
    const root = mkdtempSync(join(tmpdir(), 'keel-redis-'));
    const server = new RedisServer(
      new RedisProcess(port, root, serverArgs(port, options.password), options.password),
      root,
      options.password,
    );
    try {
      await server.startServer();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get port(): number {
    return this.process.port;
  }

  get url(): string {
    const auth = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return `redis://${auth}127.0.0.1:${this.port}`;
  }

  /** Killed (SIGKILL), as a crash; nothing was persisted, so it comes back empty. */
  stopServer(): Promise<void> {
    return this.process.kill();
  }

  startServer(): Promise<void> {
    return this.process.start();
  }

  cli(...command: string[]): Promise<string> {
    return this.process.cli(...command);
  }

  async stop(): Promise<void> {
    await this.process.kill();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A Redis Cluster of `size` masters (no replicas), every slot assigned, cluster_state ok. */
export class RedisCluster {
  private constructor(
    readonly nodes: readonly RedisProcess[],
    private readonly root: string,
    readonly password: string | undefined,
  ) {}

  static async start(options: { size?: number; password?: string } = {}): Promise<RedisCluster> {
    const ports = await freePorts(options.size ?? 3);
    const root = mkdtempSync(join(tmpdir(), 'keel-redis-cluster-'));
    const auth = options.password === undefined ? [] : ['--masterauth', options.password];
    const nodes = ports.map(
      (port) =>
        new RedisProcess(
          port,
          join(root, String(port)),
          [
            ...serverArgs(port, options.password),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
            ...auth,
          ],
          options.password,
        ),
    );
    const cluster = new RedisCluster(nodes, root, options.password);
    try {
      await Promise.all(nodes.map((node) => node.start()));
      await nodes[0].cli(
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      );
      const deadline = Date.now() + 30_000;
      while (
        !(await Promise.all(nodes.map((node) => node.cli('cluster', 'info')))).every((info) =>
          info.includes('cluster_state:ok'),
        )
      ) {
        if (Date.now() > deadline) throw new Error('the Redis cluster did not reach cluster_state:ok');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** One master and one sentinel watching it as `name`. */
export class RedisSentinel {
  private constructor(
    readonly master: RedisProcess,
    readonly sentinel: RedisProcess,
    readonly name: string,
    private readonly root: string,
  ) {}

  static async start(options: { password?: string; name?: string } = {}): Promise<RedisSentinel> {
    const [masterPort, sentinelPort] = await freePorts(2);
    const name = options.name ?? 'keelmaster';
    const root = mkdtempSync(join(tmpdir(), 'keel-redis-sentinel-'));
    const master = new RedisProcess(
      masterPort,
      join(root, 'master'),
      serverArgs(masterPort, options.password),
      options.password,
    );
    mkdirSync(join(root, 'sentinel'));
    const config = join(root, 'sentinel', 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        ...(options.password === undefined ? [] : [`sentinel auth-pass ${name} ${options.password}`]),
        '',
      ].join('\n'),
    );
    const sentinel = new RedisProcess(
      sentinelPort,
      join(root, 'sentinel'),
      [config, '--sentinel'],
      undefined,
    );
    const pair = new RedisSentinel(master, sentinel, name, root);
    try {
      await master.start();
      await sentinel.start();
    } catch (error) {
      await pair.stop();
      throw error;
    }
    return pair;
  }

  async stop(): Promise<void> {
    await Promise.all([this.sentinel.kill(), this.master.kill()]);
    rmSync(this.root, { recursive: true, force: true });
  }
}
