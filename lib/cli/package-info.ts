import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface KeelPackage {
  name: string;
  version: string;
  /** The folder holding Keel's package.json. */
  root: string;
}

let cached: KeelPackage | undefined;

/** Keel's own package.json, above this file: lib/cli in the sources, dist/lib's bundle once built. */
export function keelPackage(): KeelPackage {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    try {
      const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string };
      if (name !== undefined && version !== undefined) return (cached = { name, version, root: dir });
    } catch {
      // not here: one folder up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
}
