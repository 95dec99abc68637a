#!/usr/bin/env node
// The `keel` command: the compiled CLI when `npm run build` has run, the TypeScript source otherwise.
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'lib', 'cli', 'main.js');
if (fs.existsSync(compiled)) {
  require(compiled);
} else {
  require('@swc-node/register');
  require(path.join(__dirname, '..', 'lib', 'cli', 'main.ts'));
}
