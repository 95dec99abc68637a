import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';
import * as ts from 'typescript';
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
 * reads as one file instead of ~230. Each module keeps its own lazy initialisation in the bundle,
 * so what loads only when used (the CLI, yaml, etcd3, amqplib, undici) still does, and so does each
 * part of Keel's own API (`writeLazyEntry`).
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
  writeLazyEntry(lib, path.join(STAGE, 'api.js'));
  writeFileSync(
    path.join(STAGE, 'keel.js'),
    "exports.api = require('./api.js');\n" +
      // keel/testing: in the same bundle, so a test and its service share one copy of Keel; required
      // only by a test, so a service's start runs none of it.
      "Object.defineProperty(exports, 'testing', { get: () => require('./lib/testing/index.js') });\n" +
      "exports.cli = () => require('./lib/cli/main.js');\n",
  );
  bundle(path.join(STAGE, 'keel.js'), path.join(DIST, 'lib', 'keel.js'));
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

/**
 * Keel's entry as a table of getters, each requiring the one module that defines its name when the
 * name is first read, then replaced by the value: a service runs the top-level code of what it uses,
 * not of every resource Keel ships (tsc's index required all of them at once: AMQP, Kafka,
 * PostgreSQL, Redis, the worker pool). The modules are the ones lib/index.ts re-exports, followed
 * through its barrels; a name's module is the one whose exports hold it as a value rather than as
 * a re-export's getter. The table is checked against tsc's eager index: the same names with the
 * same values, or the build fails.
 */
function writeLazyEntry(lib: string, outfile: string): void {
  const load = createRequire(__filename);
  const eager = load(path.join(lib, 'index.js')) as Record<string, unknown>;
  const names = Object.keys(eager).filter((name) => name !== '__esModule');
  const owners = new Map<string, string>();
  for (const source of reExportedModules(path.join(ROOT, 'lib', 'index.ts'))) {
    const built = path.join(lib, path.relative(path.join(ROOT, 'lib'), source)).replace(/\.ts$/, '.js');
    const exported = load(built) as Record<string, unknown>;
    for (const name of Object.keys(exported)) {
      const own = Object.getOwnPropertyDescriptor(exported, name);
      if (name in eager && own !== undefined && 'value' in own && !owners.has(name)) owners.set(name, built);
    }
  }
  const unowned = names.filter((name) => !owners.has(name));
  if (unowned.length > 0) throw new Error(`lazy entry: no module of lib/ defines ${unowned.join(', ')}`);
  const entries = names.map((name) => {
    const specifier = `./${path.relative(path.dirname(outfile), owners.get(name)!).split(path.sep).join('/')}`;
    return `  ${name}: () => require(${JSON.stringify(specifier)}).${name},`;
  });
  writeFileSync(
    outfile,
    `'use strict';
Object.defineProperty(exports, '__esModule', { value: true });
const table = {
${entries.join('\n')}
};
for (const name of Object.keys(table)) {
  Object.defineProperty(exports, name, {
    enumerable: true,
    configurable: true,
    get() {
      const value = table[name]();
      Object.defineProperty(exports, name, { value, enumerable: true, writable: false, configurable: false });
      return value;
    },
  });
}
`,
  );
  const lazy = load(outfile) as Record<string, unknown>;
  const differing = names.filter((name) => lazy[name] !== eager[name]);
  if (differing.length > 0 || Object.keys(lazy).length !== names.length)
    throw new Error(`lazy entry differs from lib/index.js at ${differing.join(', ') || 'its name list'}`);
}

/** lib/index.ts and every module it re-exports from, through barrels, in the order they appear. */
function reExportedModules(entry: string, seen = new Set<string>()): string[] {
  if (seen.has(entry)) return [];
  seen.add(entry);
  const source = ts.createSourceFile(entry, readFileSync(entry, 'utf8'), ts.ScriptTarget.Latest);
  const found = [entry];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || statement.isTypeOnly || statement.moduleSpecifier === undefined)
      continue;
    const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
    const base = path.resolve(path.dirname(entry), specifier);
    const file = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(candidate));
    if (file === undefined) throw new Error(`${entry}: cannot resolve '${specifier}'`);
    found.push(...reExportedModules(file, seen));
  }
  return found;
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
