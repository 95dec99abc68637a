import { SettingsError } from './errors';
import { parseJsonOr } from './schema';
import { emptyTree, insertLeaf, leavesOf, type SettingsTree } from './tree';

/** One key per leaf: `keel/system/resources/http/port` holds `8080` as JSON. */
export function keyOfPath(prefix: string, path: readonly string[]): string {
  return prefix + path.join('/');
}

/**
 * The settings path of a key; undefined for a key outside the prefix or the prefix itself.
 * `MALFORMED` for a key with an empty segment (`a//b`, `a/b/`, `/a`), which would otherwise set the
 * same setting as `a/b` or `a`: two keys for one value, and which one wins is a matter of order.
 */
export function pathOfKey(prefix: string, key: string): string[] | typeof MALFORMED | undefined {
  if (!key.startsWith(prefix) || key.length === prefix.length) return undefined;
  const path = key.slice(prefix.length).split('/');
  return path.includes('') ? MALFORMED : path;
}

export const MALFORMED: unique symbol = Symbol('malformed etcd key');

export function malformedKeyMessage(key: string): string {
  return `Refused etcd key "${key}": empty path segment (a doubled, leading or trailing "/"); the key is ignored`;
}

export function encodeValue(value: unknown): string {
  return JSON.stringify(value);
}

/** JSON as written by `keel settings push`; a value put by hand that is not JSON stays a string. */
export function decodeValue(text: string): unknown {
  return parseJsonOr(text);
}

/** The tree of the entries under `prefix`; a malformed key is left out and passed to `onMalformed`. */
export function treeFromEntries(
  prefix: string,
  entries: Iterable<[string, string]>,
  onMalformed: (key: string) => void = () => undefined,
): SettingsTree {
  const tree = emptyTree();
  for (const [key, text] of entries) {
    const path = pathOfKey(prefix, key);
    if (path === MALFORMED) onMalformed(key);
    else if (path !== undefined) insertLeaf(tree, path, decodeValue(text));
  }
  return tree;
}

/**
 * One etcd entry per leaf. A segment that is empty or holds `/` has no key of its own: `a/b` would be
 * written as the nested `a.b`, and `""` as `a//b`, which readers refuse. Refused here, naming the key,
 * before anything is written.
 */
export function entriesOfTree(prefix: string, tree: SettingsTree, origin: string): Array<[string, string]> {
  return leavesOf(tree).map(([path, value]) => {
    const bad = path.find((segment) => segment === '' || segment.includes('/'));
    if (bad !== undefined) throw unmappableKeyError(path, bad, origin);
    return [keyOfPath(prefix, path), encodeValue(value)];
  });
}

function unmappableKeyError(path: readonly string[], segment: string, origin: string): SettingsError {
  const shown = path.map((part) => (part === '' ? '""' : part)).join('.');
  const why =
    segment === ''
      ? 'an empty key has no etcd key of its own (it would be written with a doubled "/")'
      : `"${segment}" holds "/", which separates levels in etcd keys (it would be written as ${path.join('/').split('/').join('.')}); nest it instead`;
  return new SettingsError(
    'SETTINGS_KEY_UNMAPPABLE',
    `Refused settings key "${shown}" (from ${origin}): ${why}`,
  );
}
