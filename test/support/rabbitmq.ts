import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports';

/** The Debian package that ships the broker; its scripts are not on PATH. */
export const RABBITMQ_PACKAGE = 'rabbitmq-server';
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD_CANDIDATES = ['/usr/bin/epmd', '/usr/lib/erlang/bin/epmd'];
const READY_TIMEOUT_MS = 60_000;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function rabbitmqInstalled(): boolean {
  return executable(SERVER) && EPMD_CANDIDATES.some(executable);
}

/**
 * `describe` for suites that need a real RabbitMQ. Without it: a failing test under CI=true,
 * otherwise the suite is skipped with one loud line naming the package to install.
 */
export function describeWithRabbitmq(name: string, body: () => void): void {
  if (rabbitmqInstalled()) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('finds rabbitmq-server', () => {
        throw new Error(`${SERVER} not found: install the Debian package ${RABBITMQ_PACKAGE}`);
      });
    });
  } else {
    console.warn(
      `!!! SKIPPING "${name}": no ${SERVER}. Install it: apt-get install -y ${RABBITMQ_PACKAGE} !!!`,
    );
    describe.skip(name, body);
  }
}

/**
 * One RabbitMQ node of the test's own: its node name, ports, data dir and epmd, all on 127.0.0.1.
 * The epmd is started here (not by the broker, whose epmd would outlive it) so it can be stopped.
 */
export class RabbitBroker {
  private node?: ChildProcess;
  private epmd?: ChildProcess;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly distPort: number,
    private readonly epmdPort: number,
    private readonly root: string,
    readonly nodeName: string,
  ) {}

  static async start(): Promise<RabbitBroker> {
    if (!rabbitmqInstalled())
      throw new Error(`${SERVER} not found: install the Debian package ${RABBITMQ_PACKAGE}`);
    const [port, distPort, epmdPort] = await freePorts(3);
    const root = mkdtempSync(join(tmpdir(), 'keel-rabbit-'));
    const broker = new RabbitBroker(
      port,
      distPort,
      epmdPort,
      root,
      `keeltest-${process.pid}-${port}@localhost`,
    );
    for (const dir of ['mnesia', 'log', 'home']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'enabled_plugins'), '[].\n');
    try {
      broker.startEpmd();
      await broker.startNode();
    } catch (error) {
      await broker.stop();
      throw error;
    }
    return broker;
  }

  /** `amqp://guest:guest@127.0.0.1:<port>`: guest may log in from loopback. */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** A graceful stop of the node, keeping its data dir for `startNode`. */
  async stopNode(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    if (node === undefined || node.exitCode !== null || node.signalCode !== null) return;
    const exited = new Promise((resolve) => node.once('exit', resolve));
    node.kill('SIGTERM');
    const forced = setTimeout(() => killGroup(node, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(forced);
    // The shell wrapper exits once the VM has; make sure no VM is left behind.
    killGroup(node, 'SIGKILL');
  }

  /** Starts the node (again) on the same name, ports and data dir, and waits for AMQP. */
  async startNode(): Promise<void> {
    const env = {
      ...process.env,
      HOME: join(this.root, 'home'),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_PORT: String(this.epmdPort),
      RABBITMQ_MNESIA_BASE: join(this.root, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.root, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.root, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(this.root, 'none'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.root, 'none-advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(this.root, 'none-env.conf'),
    };
    const node = spawn(SERVER, [], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-6000));
    node.stdout?.on('data', keep);
    node.stderr?.on('data', keep);
    this.node = node;
    track(node);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (node.exitCode !== null) break;
      if (await answersAmqp(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`RabbitMQ ${this.nodeName} on port ${this.port} did not become ready:\n${this.output}`);
  }

  async stop(): Promise<void> {
    await this.stopNode();
    const epmd = this.epmd;
    this.epmd = undefined;
    if (epmd !== undefined && epmd.exitCode === null) {
      const exited = new Promise((resolve) => epmd.once('exit', resolve));
      epmd.kill('SIGKILL');
      await exited;
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  private startEpmd(): void {
    const binary = EPMD_CANDIDATES.find(executable)!;
    const epmd = spawn(binary, ['-port', String(this.epmdPort), '-address', '127.0.0.1'], {
      stdio: 'ignore',
    });
    this.epmd = epmd;
    track(epmd);
  }
}

/**
 * The broker accepts TCP before it speaks AMQP: ready is when the protocol header gets the
 * server's `connection.start` frame (type 1) back.
 */
function answersAmqp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.once('data', (chunk: Buffer) => done(chunk[0] === 1));
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
}

/** Brokers must not outlive a crashed test run. */
const stopOnExit = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  stopOnExit.add(child);
  child.once('exit', () => stopOnExit.delete(child));
}
process.once('exit', () => {
  for (const child of stopOnExit) {
    killGroup(child, 'SIGKILL');
    child.kill('SIGKILL');
  }
});
