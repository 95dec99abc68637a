import { layer, type SettingsLayer } from './layers';
import { emptyTree, insertLeaf } from './tree';

const ENV_PREFIX = 'KEEL__';

/** Maps a lower-cased path from a variable name to the schema's spelling and type. */
export type EnvResolver = (path: string[], raw: string) => { path: string[]; value: unknown };

/** `KEEL__SYSTEM__RESOURCES__HTTP__PORT=8080` sets `system.resources.http.port`. */
export function readEnvLayer(env: NodeJS.ProcessEnv, resolvePath: EnvResolver): SettingsLayer {
  const tree = emptyTree();
  const variableOf = new Map<string, string>();
  // Names first: reading every value of process.env is a call into the runtime per variable.
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX)) continue;
    const raw = env[name];
    if (raw === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    if (segments.some((segment) => segment === '')) continue;
    const { path, value } = resolvePath(segments, raw);
    insertLeaf(tree, path, value);
    variableOf.set(path.join('.'), name);
  }
  // A key may be an object that variables fill in: name the first of them.
  const variableUnder = (key: string): string | undefined =>
    variableOf.get(key) ?? [...variableOf].find(([leaf]) => leaf.startsWith(`${key}.`))?.[1];
  return layer('env', tree, (path) => `env ${variableUnder(path.join('.')) ?? envName(path)}`);
}

export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((segment) => segment.toUpperCase()).join('__');
}
