import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian package that ships `prometheus` and `promtool`. */
export const PROMETHEUS_PACKAGE = 'prometheus';
const READY_TIMEOUT_MS = 60_000;

type Tool = 'promtool' | 'prometheus';

function installed(tool: Tool): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined;
}

/**
 * `describe` for suites that run `promtool` or `prometheus`. Without them: under CI=true a failing
 * test (a broken environment is not a reason to pass), otherwise one loud line naming the package.
 */
export function describeWithPrometheus(name: string, tools: readonly Tool[], body: () => void): void {
  const missing = tools.filter((tool) => !installed(tool));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    it(`needs ${missing.join(' and ')}, from the Debian package ${PROMETHEUS_PACKAGE}`, () => {
      console.warn(
        `!!! ${missing.join(' and ')} not found: install the Debian package "${PROMETHEUS_PACKAGE}" to run "${name}" !!!`,
      );
      expect(process.env.CI).not.toBe('true');
    });
  });
}

/** `promtool check metrics` on a text exposition: exit code and everything it printed. */
export function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), output: stdout + stderr });
    });
    child.stdin?.end(text);
  });
}

export interface ScrapeTarget {
  job: string;
  /** `127.0.0.1:<port>` of a report server. */
  address: string;
}

export interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus server on a free loopback port, scraping `targets` every second, with its
 * storage in a temporary directory removed on stop.
 */
export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly root: string,
    private readonly logs: () => string,
    readonly port: number,
  ) {}

  static async start(targets: readonly ScrapeTarget[]): Promise<PrometheusServer> {
    const root = mkdtempSync(join(tmpdir(), 'keel-prometheus-'));
    const config = join(root, 'prometheus.yml');
    writeFileSync(config, scrapeConfig(targets));
    const child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(root, 'data')}`,
        // Port 0: Prometheus logs the port it bound ("Listening on" address=127.0.0.1:PORT).
        '--web.listen-address=127.0.0.1:0',
        '--log.level=info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    stopOnExit.add(child);
    let logs = '';
    child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    try {
      const port = await boundPort(child, () => logs);
      const server = new PrometheusServer(child, root, () => logs, port);
      await server.waitUntilReady();
      return server;
    } catch (error) {
      child.kill('SIGKILL');
      stopOnExit.delete(child);
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  /** An instant query through the HTTP API (`/api/v1/query`). */
  async query(promql: string): Promise<QueryResult[]> {
    const url = `http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`;
    const reply = (await (await fetch(url)).json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: QueryResult[] };
    };
    if (reply.status !== 'success') throw new Error(`query ${promql} failed: ${reply.error}`);
    return reply.data!.result;
  }

  /** Polls `promql` until `accept` takes its result; the scrapes behind it take a few seconds. */
  async queryUntil(
    promql: string,
    accept: (result: QueryResult[]) => boolean,
    timeoutMs = 60_000,
  ): Promise<QueryResult[]> {
    const deadline = Date.now() + timeoutMs;
    let last: QueryResult[] = [];
    while (Date.now() < deadline) {
      last = await this.query(promql);
      if (accept(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `no acceptable result for ${promql} within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${this.logs()}`,
    );
  }

  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(forced);
    }
    stopOnExit.delete(child);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/-/ready`)).status === 200) return;
      } catch {
        // not answering yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`prometheus not ready within ${READY_TIMEOUT_MS} ms:\n${this.logs()}`);
  }
}

function scrapeConfig(targets: readonly ScrapeTarget[]): string {
  const jobs = targets.map(
    ({ job, address }) =>
      `  - job_name: ${JSON.stringify(job)}\n    static_configs:\n      - targets: [${JSON.stringify(address)}]\n`,
  );
  return `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${jobs.join('')}`;
}

function boundPort(child: ChildProcess, logs: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`prometheus did not listen within ${READY_TIMEOUT_MS} ms:\n${logs()}`));
    }, READY_TIMEOUT_MS);
    const check = () => {
      const match = /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(logs());
      if (match === null) return;
      cleanup();
      resolve(Number(match[1]));
    };
    const exited = (code: number | null) => {
      cleanup();
      reject(new Error(`prometheus exited with ${code} before listening:\n${logs()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stderr!.off('data', check);
      child.off('exit', exited);
    };
    child.stderr!.on('data', check);
    child.once('exit', exited);
    check();
  });
}

// A test that fails before its afterAll must still not leave a Prometheus running.
const stopOnExit = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of stopOnExit) child.kill('SIGKILL');
});
