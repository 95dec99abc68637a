import nodeModule from 'node:module';

/** Where the module compile cache of this process lives, or why it has none. */
export type CompileCacheState =
  | { readonly enabled: true; readonly directory: string }
  | { readonly enabled: false; readonly reason: string };

/** Node 22.1+; @types/node for Node 20 does not declare it. */
interface CompileCacheApi {
  enableCompileCache(directory?: string): { status: number; message?: string; directory?: string };
  constants: { compileCacheStatus: { ENABLED: number; ALREADY_ENABLED: number } };
}

/**
 * Turns on Node's module compile cache (22.1+): V8's code for every CommonJS and ES module loaded
 * from then on is kept on disk, so the next start of the service compiles none of it again, about
 * a fifth of the time Keel's modules take to load. `KEEL_COMPILE_CACHE` names the directory (Node's
 * default is `<os tmpdir>/node-compile-cache`) or is `off`; `NODE_DISABLE_COMPILE_CACHE=1` turns it
 * off too, and a cache Node started with (`NODE_COMPILE_CACHE`) is kept.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): CompileCacheState {
  const setting = env.KEEL_COMPILE_CACHE?.trim() ?? '';
  if (setting === 'off') return { enabled: false, reason: 'KEEL_COMPILE_CACHE is off' };
  const api = nodeModule as typeof nodeModule & Partial<CompileCacheApi>;
  if (api.enableCompileCache === undefined || api.constants === undefined) {
    return { enabled: false, reason: `Node ${process.versions.node} has no module compile cache (22.1+)` };
  }
  const result = api.enableCompileCache(setting === '' ? undefined : setting);
  const { ENABLED, ALREADY_ENABLED } = api.constants.compileCacheStatus;
  if ((result.status === ENABLED || result.status === ALREADY_ENABLED) && result.directory !== undefined) {
    return { enabled: true, directory: result.directory };
  }
  return { enabled: false, reason: result.message ?? 'NODE_DISABLE_COMPILE_CACHE is set' };
}
