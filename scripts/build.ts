import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildSync, transformSync } from 'esbuild';
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
  // The samples as tsc compiles them, requiring Keel by its entry (../../lib), as a user's build does.
  cpSync(path.join(STAGE, 'samples'), path.join(DIST, 'samples'), { recursive: true });
  writeFileSync(
    path.join(STAGE, 'keel.js'),
    "exports.api = require('./lib/index.js');\n" +
      // keel/testing: in the same bundle, so a test and its service share one copy of Keel; required
      // only by a test, so a service's start runs none of it.
      "Object.defineProperty(exports, 'testing', { get: () => require('./lib/testing/index.js') });\n" +
      "exports.cli = () => require('./lib/cli/main.js');\n",
  );
  bundle(path.join(STAGE, 'keel.js'), path.join(DIST, 'lib', 'keel.js'));
  compileModulesEagerly(path.join(DIST, 'lib', 'keel.js'));
  // Runs in each worker thread, where nothing of the main thread's modules is shared anyway.
  bundle(
    path.join(lib, 'resources', 'worker-pool', 'worker-entry.js'),
    path.join(DIST, 'lib', 'worker-entry.js'),
  );
  // Its own file, required by the command before the bundle: a cache turned on from inside keel.js would miss keel.js.
  bundle(
    path.join(lib, 'startup', 'compile-cache-on-load.js'),
    path.join(DIST, 'lib', 'compile-cache-on-load.js'),
  );
  writeFileSync(
    path.join(DIST, 'lib', 'index.js'),
    "'use strict';\nmodule.exports = require('./keel.js').api;\n",
  );
  writeFileSync(
    path.join(DIST, 'lib', 'testing', 'index.js'),
    "'use strict';\nrequire('../compile-cache-on-load.js');\nmodule.exports = require('../keel.js').testing;\n",
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

// esbuild's wrapper of one CommonJS module: its path comment, then the module as a method.
const MODULE_START = /^(\n\/\/ [^\n]+\nvar require_\w+ = __commonJS\(\{\n {2})("[^"]+")\(([^)]*)\) \{\n/;
const MODULE_END = '\n  }\n});';

/**
 * V8 compiles a function when it is first called, unless it is wrapped in parentheses; the module
 * compile cache (Node 22.1+) keeps only what was compiled with the script. As methods, the bundled
 * modules' bodies were compiled anew by every start, cache or not: 6-9 ms of Node 26's cold start
 * here. Each module becomes a parenthesised function; what it defines inside is still compiled
 * when first called, and a module still runs only when first required.
 */
function compileModulesEagerly(file: string): void {
  const source = readFileSync(file, 'utf8');
  // Modules start at esbuild's path comments, which code or strings in them cannot hold.
  const modules = source.split(/(?=\n\/\/ \.tmp\/build\/)/);
  const rewritten = modules.map((text) => {
    const start = MODULE_START.exec(text);
    const end = text.lastIndexOf(MODULE_END);
    if (start === null || end < start[0].length) return text;
    const body = text.slice(start[0].length, end);
    return `${start[1]}${start[2]}: (function(${start[3]}) {\n${body}\n  })\n});${text.slice(end + MODULE_END.length)}`;
  });
  const output = rewritten.join('');
  const wrappers = (source.match(/= __commonJS\(\{/g) ?? []).length;
  const eager = (output.match(/^ {2}"[^"]+": \(function\(/gm) ?? []).length;
  if (eager !== wrappers)
    throw new Error(`${file}: ${eager} of ${wrappers} modules made eager; esbuild's output changed`);
  transformSync(output, { loader: 'js', logLevel: 'silent' });
  writeFileSync(file, output);
}

/**
 * ESM consumers get a module that re-exports the CommonJS build by name, not a second build: one
 * copy of Keel's classes, tokens and registries in a process whichever way it was imported (no
 * dual-package hazard). The names are read from the build itself, so none can be forgotten.
 */
function writeEsmEntry(): void {
  writeEsmModule('index', path.join(DIST, 'lib', 'index.js'), './lib/index.js');
  writeEsmModule('testing', path.join(DIST, 'lib', 'testing', 'index.js'), './lib/testing/index.js');
}

function writeEsmModule(name: string, built: string, specifier: string): void {
  const exported = createRequire(__filename)(built) as object;
  const names = Object.keys(exported).filter((key) => key !== '__esModule');
  writeFileSync(
    path.join(DIST, `${name}.mjs`),
    `import keel from '${specifier}';\n\nexport const {\n${names.map((key) => `  ${key},`).join('\n')}\n} = keel;\n`,
  );
  writeFileSync(path.join(DIST, `${name}.d.mts`), `export * from '${specifier}';\n`);
}

build();
