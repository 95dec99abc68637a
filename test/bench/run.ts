import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { NOT_A_BENCH_EXIT_CODE } from './support/child';

/** Core benches first, then the rest by name: the order stays the same from run to run. */
const LEADING = ['graph', 'lifecycle', 'phase-overhead'];
const CHILD_ENTRY = path.join(__dirname, 'support', 'child.ts');

function benchNames(): string[] {
  const names = readdirSync(__dirname)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
    .map((file) => file.slice(0, -'.ts'.length));
  const rank = (name: string) => (LEADING.includes(name) ? LEADING.indexOf(name) : LEADING.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function printMachine(args: readonly string[]): void {
  const cpus = os.cpus();
  console.log('# Keel benchmarks\n');
  console.log(`- date: ${new Date().toISOString()}`);
  console.log(
    `- machine: ${os.availableParallelism()} cpus (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`,
  );
  console.log(
    `- load average at start: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
  console.log(`- node: ${process.version}`);
  console.log(`- command: npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\n`);
}

/**
 * Runs every bench module (each `test/bench/*.ts` exporting `main`) in its own child process, so
 * that one bench's heap and JIT state do not skew the next. Names given as arguments select benches.
 */
function runAll(args: readonly string[]): number {
  const available = benchNames();
  const unknown = args.filter((name) => !available.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ')}`);
    return 2;
  }
  printMachine(args);
  const failed: string[] = [];
  for (const name of args.length > 0
    ? available.filter((candidate) => args.includes(candidate))
    : available) {
    const began = performance.now();
    // The child inherits this process's flags (the TypeScript loader, --cpu-prof when profiling).
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, '--expose-gc', CHILD_ENTRY, path.join(__dirname, `${name}.ts`)],
      { stdio: 'inherit' },
    );
    if (child.status === NOT_A_BENCH_EXIT_CODE) continue;
    const seconds = ((performance.now() - began) / 1000).toFixed(1);
    if (child.status === 0) {
      console.log(`_${name}: ${seconds} s_\n`);
    } else {
      failed.push(name);
      console.log(`_${name}: FAILED (exit ${child.status ?? child.signal}) after ${seconds} s_\n`);
    }
  }
  if (failed.length > 0) console.error(`benches failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = runAll(process.argv.slice(2));
