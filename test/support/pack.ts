import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleInversify } from '../../scripts/bundle-inversify';
import { PROJECT_ROOT } from './process';

const run = promisify(execFile);
let packed: Promise<string> | undefined;

/**
 * The path of a fresh `npm pack` tarball of Keel, built once per test run. Compiled into a
 * temporary folder, not the worktree's dist/, so that a test never leaves a build behind that
 * `bin/keel.js` would prefer over the sources.
 */
export function packKeel(): Promise<string> {
  return (packed ??= build());
}

async function build(): Promise<string> {
  const stage = mkdtempSync(path.join(tmpdir(), 'keel-pack-'));
  const dist = path.join(stage, 'dist');
  await run(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules/tsgo/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist],
    { cwd: PROJECT_ROOT },
  );
  bundleInversify(path.join(dist, 'lib', 'container', 'inversify.js'));
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const { name, version, description, license, dependencies, bin, main, types, engines } = manifest;
  writeFileSync(
    path.join(stage, 'package.json'),
    JSON.stringify({
      name,
      version,
      description,
      license,
      dependencies,
      bin,
      main,
      types,
      engines,
      files: ['dist/lib', 'bin'],
    }),
  );
  cpSync(path.join(PROJECT_ROOT, 'bin'), path.join(stage, 'bin'), { recursive: true });
  cpSync(path.join(PROJECT_ROOT, 'README.md'), path.join(stage, 'README.md'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', stage, '--json'], { cwd: stage });
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  return path.join(stage, filename);
}
