import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePorts } from './ports';

/**
 * Apache Kafka's own jars, fetched from Maven Central by `.ci/run` with
 * `mvn -f test/support/kafka/pom.xml dependency:copy-dependencies` (the folder is the pom's).
 */
export const KAFKA_VERSION = '4.1.1';
export const KAFKA_JARS =
  process.env.KEEL_KAFKA_JARS ?? join(homedir(), '.m2', `keel-kafka-${KAFKA_VERSION}`);
const FETCH = 'mvn -q -f test/support/kafka/pom.xml dependency:copy-dependencies';
const READY_TIMEOUT_MS = 90_000;
const STARTED = /Kafka Server started/;

function missing(): string | undefined {
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) {
    return 'java not found: install a JDK 17 (apt-get install -y openjdk-17-jre-headless)';
  }
  const jars = existsSync(KAFKA_JARS) ? readdirSync(KAFKA_JARS) : [];
  if (!jars.includes(`kafka_2.13-${KAFKA_VERSION}.jar`))
    return `no Kafka jars in ${KAFKA_JARS}: run ${FETCH}`;
  return undefined;
}

/**
 * `describe` for suites that need a real Kafka broker. Without Java or the jars: a failing test
 * under CI=true, otherwise the suite is skipped with one loud line saying how to get them.
 */
export function describeWithKafka(name: string, body: () => void): void {
  const why = missing();
  if (why === undefined) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('finds Java and the Kafka jars', () => {
        throw new Error(why);
      });
    });
  } else {
    console.warn(`!!! SKIPPING "${name}": ${why} !!!`);
    describe.skip(name, body);
  }
}

export interface KafkaClusterOptions {
  /** 1 (the default) or 3: a combined broker+controller KRaft node each. */
  nodes?: number;
  /** Extra broker properties, on every node. */
  properties?: Record<string, string | number>;
  /** Each node's largest heap, in MiB (384 by default): three nodes beside a test suite on a small machine want less. */
  heapMb?: number;
}

interface Node {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  process?: ChildProcess;
  output: string;
}

/**
 * KRaft nodes of the test's own (`process.roles=broker,controller`), each its ports on 127.0.0.1,
 * its data dir in a temp folder and a small heap; with three nodes every topic is replicated
 * three times with `min.insync.replicas=2`. Settings are the fast ones for tests.
 */
export class KafkaCluster {
  private constructor(
    private readonly nodes: Node[],
    private readonly root: string,
    private readonly heapMb: number,
  ) {}

  static async start(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
    const why = missing();
    if (why !== undefined) throw new Error(why);
    const count = options.nodes ?? 1;
    const ports = await freePorts(count * 2);
    const root = mkdtempSync(join(tmpdir(), 'keel-kafka-'));
    const nodes: Node[] = Array.from({ length: count }, (_, index) => ({
      id: index + 1,
      port: ports[index * 2],
      controllerPort: ports[index * 2 + 1],
      dir: join(root, `node-${index + 1}`),
      output: '',
    }));
    const cluster = new KafkaCluster(nodes, root, options.heapMb ?? 384);
    const clusterId = randomBytes(16).toString('base64url');
    const replicas = Math.min(count, 3);
    const voters = nodes.map((node) => `${node.id}@127.0.0.1:${node.controllerPort}`).join(',');
    writeFileSync(join(root, 'log4j2.properties'), LOG4J);
    for (const node of nodes) {
      mkdirSync(node.dir);
      const properties: Record<string, string | number> = {
        'process.roles': 'broker,controller',
        'node.id': node.id,
        listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'controller.quorum.voters': voters,
        'log.dirs': join(node.dir, 'data'),
        'num.partitions': 1,
        'default.replication.factor': replicas,
        'min.insync.replicas': replicas === 3 ? 2 : 1,
        'offsets.topic.replication.factor': replicas,
        'offsets.topic.num.partitions': 4,
        'transaction.state.log.replication.factor': replicas,
        'transaction.state.log.min.isr': replicas === 3 ? 2 : 1,
        'transaction.state.log.num.partitions': 4,
        'group.initial.rebalance.delay.ms': 0,
        'log.segment.bytes': 1024 * 1024,
        'num.network.threads': 2,
        'num.io.threads': 4,
        'background.threads': 2,
        'num.recovery.threads.per.data.dir': 1,
        'broker.heartbeat.interval.ms': 500,
        'broker.session.timeout.ms': 3000,
        'controller.quorum.election.timeout.ms': 500,
        'controller.quorum.fetch.timeout.ms': 1000,
        'replica.lag.time.max.ms': 5000,
        'auto.create.topics.enable': 'true',
        ...options.properties,
      };
      writeFileSync(
        join(node.dir, 'server.properties'),
        Object.entries(properties)
          .map(([key, value]) => `${key}=${value}`)
          .join('\n') + '\n',
      );
    }
    try {
      await Promise.all(nodes.map((node) => cluster.format(node, clusterId)));
      await Promise.all(nodes.map((node) => cluster.startNode(node.id)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** `127.0.0.1:<port>` of every node, for a client's bootstrap list. */
  get brokers(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  get nodeIds(): number[] {
    return this.nodes.map((node) => node.id);
  }

  isRunning(id: number): boolean {
    const child = this.node(id).process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Sends `signal` to node `id` and waits for its JVM to exit; its data dir stays for `startNode`. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(id);
    const child = node.process;
    node.process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const forced = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(forced);
  }

  /** Starts node `id` (again) on its ports and data dir; resolves once it says it has started. */
  async startNode(id: number): Promise<void> {
    const node = this.node(id);
    node.output = '';
    const child = spawn(
      'java',
      [
        '-Xms64m',
        `-Xmx${this.heapMb}m`,
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Dlog4j2.configurationFile=${join(this.root, 'log4j2.properties')}`,
        '-cp',
        `${KAFKA_JARS}/*`,
        'kafka.Kafka',
        join(node.dir, 'server.properties'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    node.process = child;
    track(child);
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Kafka node ${id} on port ${node.port} did not start:\n${node.output}`)),
        READY_TIMEOUT_MS,
      );
      const keep = (chunk: Buffer) => {
        node.output = (node.output + chunk.toString()).slice(-8000);
        if (STARTED.test(node.output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      // Both pipes are drained for the node's whole life: a full pipe would stall the broker.
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Kafka node ${id} exited (${signal ?? code}) while starting:\n${node.output}`));
      });
    });
    await started;
  }

  /** The last lines node `id` printed (warnings and errors), for a failing test's message. */
  output(id: number): string {
    return this.node(id).output;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node.id, 'SIGKILL')));
    rmSync(this.root, { recursive: true, force: true });
  }

  private node(id: number): Node {
    const node = this.nodes.find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no Kafka node ${id}; nodes: ${this.nodeIds.join(', ')}`);
    return node;
  }

  private format(node: Node, clusterId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        'java',
        [
          '-Xmx128m',
          '-XX:+UseSerialGC',
          '-XX:TieredStopAtLevel=1',
          `-Dlog4j2.configurationFile=${join(this.root, 'log4j2.properties')}`,
          '-cp',
          `${KAFKA_JARS}/*`,
          'kafka.tools.StorageTool',
          'format',
          // One argument, not two: a base64url id starts with '-' one time in 32, which argparse
          // would read as an option ("--cluster-id: expected one argument").
          `--cluster-id=${clusterId}`,
          '-c',
          join(node.dir, 'server.properties'),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`StorageTool format of node ${node.id} failed:\n${output}`)),
      );
    });
  }
}

/** Warnings and errors only, plus the line that says a node has started. */
const LOG4J = `status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
`;

/** Brokers must not outlive a crashed test run. */
const stopOnExit = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  stopOnExit.add(child);
  child.once('exit', () => stopOnExit.delete(child));
}
process.once('exit', () => {
  for (const child of stopOnExit) child.kill('SIGKILL');
});

/** Creates `topics` (each with its partition count) and waits for their leaders. */
export async function createTopics(
  brokers: string[],
  topics: Array<{ topic: string; partitions: number; replicas?: number }>,
): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'keel-test-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: topics.map(({ topic, partitions, replicas }) => ({
        topic,
        numPartitions: partitions,
        ...(replicas !== undefined && { replicationFactor: replicas }),
      })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | undefined;
  value: Buffer;
  headers: Record<string, string>;
}

/** Reads `topic` from its start until `count` records have come, with a plain kafkajs consumer. */
export async function readRecords(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ReadRecord[]> {
  const consumer = new Kafka({ brokers, clientId: 'keel-test-reader', logLevel: logLevel.NOTHING }).consumer({
    groupId: `keel-test-reader-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
        records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString(),
          value: message.value ?? Buffer.alloc(0),
          headers,
        });
        if (records.length >= count) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      all,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`read ${records.length} of ${count} records of '${topic}' in ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return records;
}
