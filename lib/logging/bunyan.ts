// A namespace import: a default import of bunyan's `export =` in the emitted declarations needs
// esModuleInterop in a consumer (TS1259).
import type * as Bunyan from 'bunyan';
import { createRequire } from 'node:module';

/**
 * Optional modules bunyan requires as it loads, for features Keel's logging never turns on: `mv`
 * (with rimraf, glob and minimatch under it) for bunyan's rotating-file stream, Keel rotating files
 * with its own sink, and `source-map-support` for `src: true` call sites. Loading them took 17 and
 * 10 ms of a cold start on Node 20 here, more than bunyan itself (7 ms).
 */
const LOADED_ON_FIRST_USE = ['mv', 'source-map-support'];

/**
 * bunyan, loaded with each installed module of LOADED_ON_FIRST_USE stood in for by a proxy that
 * requires the real one on first use: a bunyan rotating-file stream made by a user still rotates.
 * The stand-ins are in the module cache only while bunyan loads, so any other require of those
 * modules gets the real one.
 */
function loadBunyan(): typeof Bunyan {
  const entry = require.resolve('bunyan');
  const fromBunyan = createRequire(entry);
  const standIns: string[] = [];
  if (require.cache[entry] === undefined) {
    for (const name of LOADED_ON_FIRST_USE) {
      let file: string;
      try {
        file = fromBunyan.resolve(name);
      } catch {
        continue; // not installed: bunyan's own fallback
      }
      if (require.cache[file] !== undefined) continue;
      require.cache[file] = standIn(file, () => fromBunyan(name) as object);
      standIns.push(file);
    }
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- after the stand-ins, not hoisted above them
    return require('bunyan') as typeof Bunyan;
  } finally {
    for (const file of standIns) delete require.cache[file];
  }
}

/** A loaded module whose exports forward every call and property read to `load()`'s. */
function standIn(file: string, load: () => object): NodeJS.Module {
  let real: object | undefined;
  const target = (): object => (real ??= load());
  // A function target, so that a module exporting a function (mv does) can be called through it.
  const exports = new Proxy(function standInExports() {}, {
    apply: (_, self, args) => Reflect.apply(target() as (...args: unknown[]) => unknown, self, args),
    get: (_, key) => Reflect.get(target(), key) as unknown,
    has: (_, key) => Reflect.has(target(), key),
  });
  return {
    id: file,
    filename: file,
    loaded: true,
    exports,
    children: [],
    paths: [],
  } as unknown as NodeJS.Module;
}

export const bunyan = loadBunyan();
