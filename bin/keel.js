#!/usr/bin/env node
// The `keel` command: the compiled CLI when `npm run build` has run, the TypeScript source otherwise.
// Either way the module compile cache goes on first, so that it covers what the CLI loads.
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'lib');
if (fs.existsSync(path.join(compiled, 'cli', 'main.js'))) {
  require(path.join(compiled, 'lifecycle', 'compile-cache-on-load.js'));
  require(path.join(compiled, 'cli', 'main.js'));
} else {
  require('@swc-node/register');
  require(path.join(__dirname, '..', 'lib', 'lifecycle', 'compile-cache-on-load.ts'));
  require(path.join(__dirname, '..', 'lib', 'cli', 'main.ts'));
}
