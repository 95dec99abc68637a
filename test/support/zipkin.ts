import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports';

/** The version `test/support/zipkin/pom.xml` fetches; `.ci/run` puts its jar into ~/.m2. */
export const ZIPKIN_VERSION = '3.5.1';
export const ZIPKIN_JAR = join(
  homedir(),
  '.m2/repository/io/zipkin/zipkin-server',
  ZIPKIN_VERSION,
  `zipkin-server-${ZIPKIN_VERSION}-exec.jar`,
);
const FETCH = 'mvn -q -f test/support/zipkin/pom.xml dependency:resolve';
/** A JVM start of Spring Boot on a loaded 2-core machine takes tens of seconds. */
const READY_TIMEOUT_MS = 150_000;

export function zipkinInstalled(): boolean {
  return existsSync(ZIPKIN_JAR);
}

/** `describe` for suites that need the Zipkin server: without its jar, a failing test under CI=true, else skipped loudly. */
export function describeWithZipkin(name: string, body: () => void): void {
  if (zipkinInstalled()) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('finds the Zipkin server jar', () => {
        throw new Error(`${ZIPKIN_JAR} not found: fetch it with ${FETCH}`);
      });
    });
  } else {
    console.warn(`!!! SKIPPING "${name}": no ${ZIPKIN_JAR}. Fetch it: ${FETCH} !!!`);
    describe.skip(name, body);
  }
}

/** A span as Zipkin's v2 API returns it. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** One Zipkin server of the test's own (in-memory storage), on 127.0.0.1 and a free port. */
export class ZipkinServer {
  private output = '';

  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<ZipkinServer> {
    if (!zipkinInstalled()) throw new Error(`${ZIPKIN_JAR} not found: fetch it with ${FETCH}`);
    const [port] = await freePorts(1);
    // A small heap and the C1 compiler only: the tests send a few hundred spans at most.
    const child = spawn(
      'java',
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-jar',
        ZIPKIN_JAR,
        `--armeria.ports[0].port=${port}`,
        '--armeria.ports[0].ip=127.0.0.1',
        '--armeria.ports[0].protocols[0]=http',
        '--zipkin.ui.enabled=false',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new ZipkinServer(port, child);
    const keep = (chunk: Buffer) => (server.output = (server.output + chunk.toString()).slice(-6000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    track(child);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await server.healthy()) return server;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await server.stop();
    throw new Error(`Zipkin on port ${port} did not become ready:\n${server.output}`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where OpenTelemetry's Zipkin exporter posts spans. */
  get spansEndpoint(): string {
    return `${this.url}/api/v2/spans`;
  }

  /** The spans of `traceId` that Zipkin has stored; empty while it has none. */
  async trace(traceId: string): Promise<ZipkinSpan[]> {
    const response = await fetch(`${this.url}/api/v2/trace/${traceId}`);
    if (response.status === 404) return [];
    if (!response.ok) throw new Error(`Zipkin answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as ZipkinSpan[];
  }

  /** Polls until the trace holds at least `count` spans (spans arrive in batches, from several processes). */
  async waitForTrace(traceId: string, count: number, timeoutMs = 30_000): Promise<ZipkinSpan[]> {
    const deadline = Date.now() + timeoutMs;
    let spans: ZipkinSpan[] = [];
    while (Date.now() < deadline) {
      spans = await this.trace(traceId);
      if (spans.length >= count) return spans;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(
      `trace ${traceId} has ${spans.length} span(s) in Zipkin, expected ${count}: ${JSON.stringify(spans)}`,
    );
  }

  async stop(): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(forced);
  }

  private async healthy(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
      return response.ok;
    } catch {
      return false;
    }
  }
}

/** Servers must not outlive a crashed test run. */
const stopOnExit = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  stopOnExit.add(child);
  child.once('exit', () => stopOnExit.delete(child));
}
process.once('exit', () => {
  for (const child of stopOnExit) child.kill('SIGKILL');
});
