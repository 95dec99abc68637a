#!/usr/bin/env node
// The `keel` command. A command and the service it loads must share one copy of Keel (a service
// class of another copy is not a Microservice to this one), so the copy follows where it runs:
// inside Keel's own checkout, whose samples and tests import ../../lib, the TypeScript sources, even
// once `npm run build` has made dist/; anywhere else (a project, where `keel` resolves to dist/),
// the compiled CLI, and the sources only when there is no build. Either way the module compile cache
// goes on first, so that it covers what the CLI loads (dist's cli/main.js turns it on before it
// requires the bundle).
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const sources = path.join(root, 'lib', 'cli', 'main.ts');
const compiled = path.join(root, 'dist', 'lib', 'cli', 'main.js');

function insideCheckout() {
  if (!fs.existsSync(sources)) return false;
  const from = path.relative(fs.realpathSync(root), fs.realpathSync(process.cwd()));
  return !from.startsWith('..') && !path.isAbsolute(from);
}

if (fs.existsSync(compiled) && !insideCheckout()) {
  require(compiled);
} else {
  require('@swc-node/register');
  require(path.join(root, 'lib', 'startup', 'compile-cache-on-load.ts'));
  require(sources);
}
