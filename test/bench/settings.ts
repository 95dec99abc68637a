/**
 * Settings: (1) a scoped `view.get` of a leaf against a plain object property read; (2) live update
 * propagation on loopback etcd, put -> watcher callback, Keel's provider against a raw etcd3
 * watcher; (3) import cost of the entry point with and without KEEL_ETCD_HOSTS, against importing
 * etcd3 itself, from fresh processes, showing etcd3 is loaded only when a service uses etcd.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';
import { SettingsProvider, type SettingsView } from '../../lib/settings';
import { etcdBinary, EtcdCluster, ETCD_PACKAGE } from '../support/etcd';
import { median } from './support/measure';
import { fixed, markdownTable, times, verdict } from './support/table';

const GET_ITERATIONS = 20_000_000;
const GET_ROUNDS = 7;
const TARGET_GET_RATIO = 5;
const PUTS = 1000;
const TARGET_PROPAGATION_RATIO = 1.2;
const IMPORT_RUNS = 7;
const ROOT = path.resolve(__dirname, '../..');
const PORT_KEY = 'bench/system/resources/http/port';

const httpSchema = {
  port: { format: 'port', default: 8080 },
  host: { format: String, default: '127.0.0.1' },
};

function nsPerOp(read: () => number): number {
  const began = performance.now();
  const sum = read();
  const elapsedNs = (performance.now() - began) * 1e6;
  if (sum === -1) console.log('unreachable: keeps the loop observable');
  return elapsedNs / GET_ITERATIONS;
}

async function scopedGet(): Promise<string[][]> {
  const settings = await SettingsProvider.load({
    serviceName: 'bench',
    scopes: [{ path: 'system.resources.http', owner: 'http', schema: httpSchema }],
    env: {},
    cwd: ROOT,
    inline: { system: { resources: { http: { port: 9000 } } } },
  });
  const view = settings.view('system.resources.http') as SettingsView<{ port: number; host: string }>;
  const plain = { port: 9000, host: '127.0.0.1' };
  const viewRead = () => {
    let sum = 0;
    for (let i = 0; i < GET_ITERATIONS; i++) sum += view.get('port');
    return sum;
  };
  const plainRead = () => {
    let sum = 0;
    for (let i = 0; i < GET_ITERATIONS; i++) sum += plain.port;
    return sum;
  };
  const keel: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < GET_ROUNDS; round++) {
    floor.push(nsPerOp(plainRead));
    keel.push(nsPerOp(viewRead));
  }
  await settings.close();
  const ratio = median(keel) / median(floor);
  return [
    [
      'scoped view.get(leaf)',
      'plain object property read',
      fixed(median(keel), 2),
      fixed(median(floor), 2),
      times(ratio),
      `<= ${TARGET_GET_RATIO}x`,
      verdict(ratio <= TARGET_GET_RATIO),
    ],
  ];
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

/** A promise per put, resolved by whichever watcher it is given to; records when it arrived. */
function arrivals(): { next(): Promise<number>; signal(): void } {
  let resolve: ((at: number) => void) | undefined;
  return {
    next: () => new Promise<number>((done) => (resolve = done)),
    signal: () => resolve?.(performance.now()),
  };
}

/**
 * Each put is watched at once by Keel's provider and by a raw etcd3 watcher on its own connection,
 * so both latencies of a put share the same etcd commit (and its disk sync).
 */
async function propagation(): Promise<string[][]> {
  if (etcdBinary() === undefined) {
    return [
      ['watch put -> callback', 'raw etcd3 watcher', '-', '-', '-', '-', `not run: install ${ETCD_PACKAGE}`],
    ];
  }
  const cluster = await EtcdCluster.start(1);
  const writer = new Etcd3({ hosts: cluster.hosts });
  const raw = new Etcd3({ hosts: cluster.hosts });
  const settings = await SettingsProvider.load({
    serviceName: 'bench',
    scopes: [{ path: 'system.resources.http', owner: 'http', schema: httpSchema }],
    env: { KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_PREFIX: 'bench/' },
    cwd: ROOT,
  });
  try {
    const rawArrivals = arrivals();
    const keelArrivals = arrivals();
    const watcher = await raw.watch().key(PORT_KEY).create();
    watcher.on('put', () => rawArrivals.signal());
    settings.view('system.resources.http').watch('port', () => keelArrivals.signal());
    const keelLatencies: number[] = [];
    const rawLatencies: number[] = [];
    for (let i = 1; i <= PUTS; i++) {
      const arrived = Promise.all([keelArrivals.next(), rawArrivals.next()]);
      const began = performance.now();
      await writer.put(PORT_KEY).value(String(10_000 + i));
      const [keelAt, rawAt] = await arrived;
      keelLatencies.push(keelAt - began);
      rawLatencies.push(rawAt - began);
    }
    await watcher.cancel();
    const row = (label: string, fraction: number): string[] => {
      const keel = percentile(keelLatencies, fraction);
      const floor = percentile(rawLatencies, fraction);
      const ratio = keel / floor;
      return [
        `watch put -> callback ${label} (ms, ${PUTS} puts)`,
        'raw etcd3 watcher, same puts',
        fixed(keel, 3),
        fixed(floor, 3),
        times(ratio),
        `<= ${TARGET_PROPAGATION_RATIO}x`,
        verdict(ratio <= TARGET_PROPAGATION_RATIO),
      ];
    };
    return [row('p50', 0.5), row('p99', 0.99)];
  } finally {
    await settings.close();
    raw.close();
    writer.close();
    await cluster.stop();
  }
}

interface ImportSample {
  ms: number;
  /** CPU time of the require: steadier than wall time on a machine busy with other work. */
  cpuMs: number;
  etcd3Loaded: boolean;
}

/** Requires `entry` in a fresh node (with the same TypeScript loader) and reports time and whether etcd3 got loaded. */
function importInFreshProcess(entry: string, env: NodeJS.ProcessEnv): ImportSample {
  const script = `
    const { performance } = require('node:perf_hooks');
    const cpuBefore = process.cpuUsage();
    const began = performance.now();
    require(${JSON.stringify(entry)});
    const ms = performance.now() - began;
    const cpu = process.cpuUsage(cpuBefore);
    const etcd3Loaded = Object.keys(require.cache).some((file) => file.includes('/node_modules/etcd3/'));
    process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, etcd3Loaded }));`;
  const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`import of ${entry} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout) as ImportSample;
}

/** Fresh processes alternate between the two environments so that machine load drifts hit both alike. */
function importCost(): string[][] {
  const entry = path.join(ROOT, 'lib', 'index.ts');
  const without: ImportSample[] = [];
  const withHosts: ImportSample[] = [];
  const etcd3: ImportSample[] = [];
  for (let run = 0; run < IMPORT_RUNS; run++) {
    without.push(importInFreshProcess(entry, { KEEL_ETCD_HOSTS: '' }));
    withHosts.push(importInFreshProcess(entry, { KEEL_ETCD_HOSTS: '127.0.0.1:2379' }));
    etcd3.push(importInFreshProcess('etcd3', {}));
  }
  const ms = (samples: ImportSample[]) => fixed(median(samples.map((sample) => sample.ms)), 1);
  const cpuMs = (samples: ImportSample[]) => median(samples.map((sample) => sample.cpuMs));
  const loaded = (samples: ImportSample[]) => (samples.some((sample) => sample.etcd3Loaded) ? 'yes' : 'no');
  const lazy = loaded(withHosts) === 'no' && loaded(without) === 'no';
  return [
    ['lib/index.ts, KEEL_ETCD_HOSTS unset', ms(without), fixed(cpuMs(without), 1), loaded(without), '-', '-'],
    [
      'lib/index.ts, KEEL_ETCD_HOSTS set',
      ms(withHosts),
      fixed(cpuMs(withHosts), 1),
      loaded(withHosts),
      times(cpuMs(withHosts) / cpuMs(without)),
      verdict(lazy),
    ],
    [
      'etcd3 alone (paid at SettingsProvider.load only with etcd)',
      ms(etcd3),
      fixed(cpuMs(etcd3), 1),
      'yes',
      '-',
      '-',
    ],
  ];
}

export async function main(): Promise<void> {
  console.log('## Settings\n');
  const rows = [...(await scopedGet()), ...(await propagation())];
  console.log(markdownTable(['measure', 'floor', 'keel', 'floor value', 'ratio', 'target', 'verdict'], rows));
  console.log(
    `\nview.get in ns/op over ${GET_ITERATIONS} reads (median of ${GET_ROUNDS} rounds); propagation in ms.\n`,
  );
  console.log(
    markdownTable(
      ['import from a fresh process', 'wall ms', 'cpu ms', 'etcd3 loaded', 'cpu set / unset', 'lazy etcd3'],
      importCost(),
    ),
  );
  console.log(
    `\nmedian of ${IMPORT_RUNS} fresh processes each, with @swc-node/register: TypeScript compile time is included.\n`,
  );
}
