import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequestRaw } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePorts } from './ports';

/** The Debian package that ships the `etcd` server binary. */
export const ETCD_PACKAGE = 'etcd-server';
const READY_TIMEOUT_MS = 30_000;

export function etcdBinary(): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(directory, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * `describe` for suites that need a real etcd. Without the binary: a failing test under CI=true,
 * otherwise the suite is skipped with one loud line naming the package to install.
 */
export function describeWithEtcd(name: string, body: () => void): void {
  if (etcdBinary() !== undefined) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('finds the etcd binary', () => {
        throw new Error(`etcd binary not found on PATH: install the Debian package ${ETCD_PACKAGE}`);
      });
    });
  } else {
    console.warn(
      `!!! SKIPPING "${name}": no etcd binary on PATH. Install it: apt-get install -y ${ETCD_PACKAGE} !!!`,
    );
    describe.skip(name, body);
  }
}

/** PEM files for serving clients over TLS; `caFile` is what clients trust. */
export interface EtcdTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** `127.0.0.1:<clientPort>`, the form KEEL_ETCD_HOSTS takes. */
  readonly endpoint: string;
}

/** Real etcd server processes on 127.0.0.1: one member, or a cluster for failover tests. */
export class EtcdCluster {
  private readonly processes = new Map<EtcdMember, ChildProcess>();
  private readonly output = new Map<EtcdMember, string>();
  private readonly frozen = new Set<EtcdMember>();

  private constructor(
    readonly members: readonly EtcdMember[],
    private readonly root: string,
    private readonly token: string,
    private readonly tls: EtcdTls | undefined,
  ) {}

  /** `size` members; with `tls`, clients must connect over https and trust `tls.caFile`. */
  static async start(size = 1, tls?: EtcdTls): Promise<EtcdCluster> {
    const binary = etcdBinary();
    if (binary === undefined)
      throw new Error(`etcd binary not found: install the Debian package ${ETCD_PACKAGE}`);
    const root = mkdtempSync(join(tmpdir(), 'keel-etcd-'));
    const ports = await freePorts(size * 2);
    const members = Array.from({ length: size }, (_, index) => ({
      name: `member${index}`,
      clientPort: ports[index * 2],
      peerPort: ports[index * 2 + 1],
      dataDir: join(root, `member${index}`),
      endpoint: `127.0.0.1:${ports[index * 2]}`,
    }));
    const cluster = new EtcdCluster(members, root, `keel-test-${process.pid}-${ports[0]}`, tls);
    try {
      for (const member of members) cluster.spawn(member);
      await Promise.all(members.map((member) => cluster.waitReady(member)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Comma-separated endpoints, the value of KEEL_ETCD_HOSTS. */
  get hosts(): string {
    return this.members.map((member) => member.endpoint).join(',');
  }

  /** SIGKILL, as a crash: no graceful leave. */
  async kill(member: EtcdMember): Promise<void> {
    this.thaw(member);
    const child = this.processes.get(member);
    this.processes.delete(member);
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP: the process keeps its sockets open and answers nothing, as a hung host would. */
  freeze(member: EtcdMember): void {
    const child = this.processes.get(member);
    if (child === undefined || child.exitCode !== null) throw new Error(`etcd ${member.name} is not running`);
    child.kill('SIGSTOP');
    this.frozen.add(member);
  }

  /** SIGCONT for a frozen member; `stop` thaws every member before killing it. */
  thaw(member: EtcdMember): void {
    if (this.frozen.delete(member)) this.processes.get(member)?.kill('SIGCONT');
  }

  /** Starts a killed member again on the same data dir and ports. */
  async restart(member: EtcdMember): Promise<void> {
    await this.kill(member);
    this.spawn(member);
    await this.waitReady(member);
  }

  async leader(): Promise<EtcdMember> {
    for (const member of this.members) {
      if (!this.processes.has(member)) continue;
      const status = (await this.postJson(member, '/v3/maintenance/status', {})) as {
        header: { member_id: string };
        leader: string;
      };
      if (status.header.member_id === status.leader) return member;
    }
    throw new Error('no running etcd member is the leader');
  }

  running(): EtcdMember[] {
    return this.members.filter((member) => this.processes.has(member));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => this.kill(member)));
    rmSync(this.root, { recursive: true, force: true });
  }

  private spawn(member: EtcdMember): void {
    const peer = (m: EtcdMember): string => `http://127.0.0.1:${m.peerPort}`;
    const client = `${this.tls ? 'https' : 'http'}://127.0.0.1:${member.clientPort}`;
    const args = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer(member)}`,
      `--initial-advertise-peer-urls=${peer(member)}`,
      `--initial-cluster=${this.members.map((m) => `${m.name}=${peer(m)}`).join(',')}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.token}`,
      // Fast elections keep failover tests short; loopback latency is far below these.
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--logger=zap',
      '--log-level=warn',
      ...(this.tls ? [`--cert-file=${this.tls.certFile}`, `--key-file=${this.tls.keyFile}`] : []),
    ];
    const child = spawn(etcdBinary() as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.output.set(member, '');
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output.set(member, ((this.output.get(member) ?? '') + chunk.toString()).slice(-4000));
    });
    this.processes.set(member, child);
    stopOnExit.add(child);
    child.once('exit', () => stopOnExit.delete(child));
  }

  private async isHealthy(member: EtcdMember): Promise<boolean> {
    try {
      const body = await this.request(member, 'GET', '/health');
      return (JSON.parse(body) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }

  private async postJson(member: EtcdMember, path: string, payload: unknown): Promise<unknown> {
    return JSON.parse(await this.request(member, 'POST', path, JSON.stringify(payload)));
  }

  private request(member: EtcdMember, method: string, path: string, body?: string): Promise<string> {
    const send = this.tls ? httpsRequestRaw : httpRequestRaw;
    const ca = this.tls ? readFileSync(this.tls.caFile) : undefined;
    return new Promise((resolve, reject) => {
      const req = send(
        { host: '127.0.0.1', port: member.clientPort, method, path, timeout: 2000, ca },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout on ${method} ${path}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private async waitReady(member: EtcdMember): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const child = this.processes.get(member);
      if (child === undefined || child.exitCode !== null) break;
      if (await this.isHealthy(member)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `etcd ${member.name} on ${member.endpoint} did not become ready:\n${this.output.get(member)}`,
    );
  }
}

/** Children must not outlive a crashed test run. */
const stopOnExit = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of stopOnExit) child.kill('SIGKILL');
});

/** A port nothing listens on, for "etcd unreachable" scenarios. */
export async function closedPort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
