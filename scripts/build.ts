import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { bundleInversify } from './bundle-inversify';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
// tsc's output, one file per module: the input of the bundles, then removed but for its declarations.
const STAGE = path.join(ROOT, '.tmp', 'build');
const pkg = createRequire(__filename)('../package.json') as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
// What a user's npm installs stays in node_modules (and loads when Keel requires it, lazily or not).
const EXTERNAL = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies), '@grpc/grpc-js'];

/**
 * `npm run build` (and `prepack`): dist/ from scratch, so that no file of an earlier build is
 * packed. tsc compiles lib/ (it emits the decorators' metadata, which esbuild does not) and writes
 * the declarations; esbuild then bundles that CommonJS into dist/lib/keel.js, which a cold start
 * reads and compiles as one file instead of ~180. Each module keeps its own lazy initialisation in
 * the bundle, so what loads only when used (the CLI, yaml, etcd3, amqplib, undici) still does.
 */
function build(): void {
  rmSync(DIST, { recursive: true, force: true });
  rmSync(STAGE, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tsgo', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', STAGE],
    { cwd: ROOT, stdio: 'inherit' },
  );
  const lib = path.join(STAGE, 'lib');
  bundleInversify(path.join(lib, 'container', 'inversify.js'));
  cpSync(lib, path.join(DIST, 'lib'), { recursive: true, filter: (from) => !/\.js(\.map)?$/.test(from) });
  writeFileSync(
    path.join(STAGE, 'keel.js'),
    "exports.api = require('./lib/index.js');\nexports.cli = () => require('./lib/cli/main.js');\n",
  );
  bundle(path.join(STAGE, 'keel.js'), path.join(DIST, 'lib', 'keel.js'));
  // Runs in each worker thread, where nothing of the main thread's modules is shared anyway.
  bundle(
    path.join(lib, 'resources', 'worker-pool', 'worker-entry.js'),
    path.join(DIST, 'lib', 'worker-entry.js'),
  );
  // Its own file, required before the bundle: a cache turned on from inside keel.js would miss keel.js.
  bundle(
    path.join(lib, 'lifecycle', 'compile-cache-on-load.js'),
    path.join(DIST, 'lib', 'compile-cache-on-load.js'),
  );
  writeFileSync(
    path.join(DIST, 'lib', 'index.js'),
    "'use strict';\nrequire('./compile-cache-on-load.js');\nmodule.exports = require('./keel.js').api;\n",
  );
  mkdirSync(path.join(DIST, 'lib', 'cli'), { recursive: true });
  writeFileSync(
    path.join(DIST, 'lib', 'cli', 'main.js'),
    "#!/usr/bin/env node\n'use strict';\nrequire('../compile-cache-on-load.js');\nrequire('../keel.js').cli();\n",
  );
  writeEsmEntry();
  rmSync(STAGE, { recursive: true, force: true });
}

function bundle(entry: string, outfile: string): void {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'warning',
  });
}

/**
 * ESM consumers get a module that re-exports the CommonJS build by name, not a second build: one
 * copy of Keel's classes, tokens and registries in a process whichever way it was imported (no
 * dual-package hazard). The names are read from the build itself, so none can be forgotten.
 */
function writeEsmEntry(): void {
  const built = createRequire(__filename)(path.join(DIST, 'lib', 'index.js')) as object;
  const names = Object.keys(built).filter((name) => name !== '__esModule');
  writeFileSync(
    path.join(DIST, 'index.mjs'),
    `import keel from './lib/index.js';\n\nexport const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = keel;\n`,
  );
  writeFileSync(path.join(DIST, 'index.d.mts'), "export * from './lib/index.js';\n");
}

build();
