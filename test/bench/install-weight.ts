import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packKeel } from '../support/pack';

/** NestJS's core set for an HTTP service: what `nest new` installs besides dev tooling. */
const NEST = ['@nestjs/core', '@nestjs/common', '@nestjs/platform-express', 'reflect-metadata', 'rxjs'];

interface Weight {
  packages: number;
  bytes: number;
  largest: Array<[string, number]>;
}

/** Installs `specs` into an empty project, as a user would (`npm install`, defaults), and weighs node_modules. */
function installWeight(specs: string[]): Weight {
  const dir = mkdtempSync(path.join(tmpdir(), 'keel-weight-'));
  try {
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'weight', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], {
      cwd: dir,
      stdio: 'pipe',
    });
    const modules = path.join(dir, 'node_modules');
    const packages = listPackages(modules);
    const sized = packages.map((pkg): [string, number] => [
      path.relative(modules, pkg),
      diskBytes(pkg, true),
    ]);
    return {
      packages: packages.length,
      bytes: diskBytes(modules, false),
      largest: sized.sort((a, b) => b[1] - a[1]).slice(0, 8),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function listPackages(modules: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(modules)) {
    if (name.startsWith('.')) continue;
    const dir = path.join(modules, name);
    if (name.startsWith('@')) found.push(...listPackages(dir));
    else {
      found.push(dir);
      const nested = path.join(dir, 'node_modules');
      if (exists(nested)) found.push(...listPackages(nested));
    }
  }
  return found;
}

/** Bytes on disk as `du` counts them (512-byte blocks); a package's own files only when `own`. */
function diskBytes(target: string, own: boolean): number {
  const stat = lstatSync(target);
  if (!stat.isDirectory()) return stat.blocks * 512;
  let total = stat.blocks * 512;
  for (const name of readdirSync(target)) {
    if (own && name === 'node_modules') continue;
    total += diskBytes(path.join(target, name), own);
  }
  return total;
}

function exists(target: string): boolean {
  try {
    lstatSync(target);
    return true;
  } catch {
    return false;
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

export async function main(): Promise<void> {
  const tarball = await packKeel();
  const keel = installWeight([tarball]);
  const nest = installWeight(NEST);
  console.log('## install weight: a new project installing Keel vs NestJS core\n');
  console.log(`npm ${execFileSync('npm', ['--version']).toString().trim()}, \`npm install\` with defaults\n`);
  console.log('| install | packages | MB on disk | ratio (MB) |');
  console.log('| ------- | -------- | ---------- | ---------- |');
  console.log(
    `| keel (packed tarball) | ${keel.packages} | ${mb(keel.bytes)} | ${(keel.bytes / nest.bytes).toFixed(2)}x |`,
  );
  console.log(`| ${NEST.join(' ')} (floor) | ${nest.packages} | ${mb(nest.bytes)} | 1.00x |`);
  for (const [label, weight] of [
    ['keel', keel],
    ['nest', nest],
  ] as const) {
    console.log(
      `\nlargest in ${label}: ${weight.largest.map(([name, bytes]) => `${name} ${mb(bytes)}`).join(', ')}`,
    );
  }
}
