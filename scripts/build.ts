import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleInversify } from './bundle-inversify';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/**
 * `npm run build` (and `prepack`): dist/ from scratch, so that no file of an earlier build is
 * packed; the CommonJS build with declarations, inversify bundled, and the ESM entry.
 */
function build(): void {
  rmSync(DIST, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'tsgo', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  bundleInversify(path.join(DIST, 'lib', 'container', 'inversify.js'));
  writeEsmEntry();
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
