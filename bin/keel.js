#!/usr/bin/env node
// The `keel` command: the compiled CLI when `npm run build` has run, the TypeScript source otherwise.
// Either way the module compile cache goes on first, so that it covers what the CLI loads (dist's
// cli/main.js turns it on before it requires the bundle).
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'lib', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled);
} else {
  require('@swc-node/register');
  require(path.join(__dirname, '..', 'lib', 'lifecycle', 'compile-cache-on-load.ts'));
  require(path.join(__dirname, '..', 'lib', 'cli', 'main.ts'));
}
