import path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');

/**
 * Bundles lib/container/inversify.ts and the installed (pinned) inversify packages into one
 * CommonJS file, keeping only what Keel exports. reflect-metadata stays external: it is a global
 * polyfill, and the metadata keys are plain strings, so a bundled copy reads and writes the same
 * metadata as decorators imported from `inversify` itself.
 */
export function bundleInversify(outfile: string): void {
  buildSync({
    entryPoints: [path.join(ROOT, 'lib', 'container', 'inversify.ts')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['reflect-metadata'],
    sourcemap: true,
    logLevel: 'warning',
  });
}
