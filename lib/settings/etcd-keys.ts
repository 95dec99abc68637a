import { parseJsonOr } from './schema';
import { insertLeaf, leavesOf, type SettingsTree } from './tree';

/** One key per leaf: `keel/system/resources/http/port` holds `8080` as JSON. */
export function keyOfPath(prefix: string, path: readonly string[]): string {
  return prefix + path.join('/');
}

export function pathOfKey(prefix: string, key: string): string[] | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const path = key
    .slice(prefix.length)
    .split('/')
    .filter((segment) => segment !== '');
  return path.length === 0 ? undefined : path;
}

export function encodeValue(value: unknown): string {
  return JSON.stringify(value);
}

/** JSON as written by `keel settings push`; a value put by hand that is not JSON stays a string. */
export function decodeValue(text: string): unknown {
  return parseJsonOr(text);
}

export function treeFromEntries(prefix: string, entries: Iterable<[string, string]>): SettingsTree {
  const tree: SettingsTree = {};
  for (const [key, text] of entries) {
    const path = pathOfKey(prefix, key);
    if (path !== undefined) insertLeaf(tree, path, decodeValue(text));
  }
  return tree;
}

export function entriesOfTree(prefix: string, tree: SettingsTree): Array<[string, string]> {
  return leavesOf(tree).map(([path, value]) => [keyOfPath(prefix, path), encodeValue(value)]);
}
