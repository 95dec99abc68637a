/**
 * Plain-data helpers for the settings tree: JSON-like objects addressed by path segments. Every
 * node they build has no prototype, and reads look at own keys only, so a key named `__proto__`,
 * `constructor` or `prototype` can neither reach nor read `Object.prototype`; the layers refuse such
 * keys before they get here (`unsafeKeyIn`).
 */
export type SettingsTree = Record<string, unknown>;

/** Path segments no layer may use: they name an object's prototype machinery, not a setting. */
const UNSAFE_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

export function isUnsafeSegment(segment: string): boolean {
  return UNSAFE_SEGMENTS.has(segment);
}

/**
 * Nodes inherit from one frozen, empty object that itself has no prototype: nothing of
 * `Object.prototype` is reachable through them. (`Object.create(null)` would do the same, but V8
 * keeps such objects in dictionary mode, which made `view.get` 12 times slower.)
 */
const NODE_PROTOTYPE: object = Object.freeze(Object.create(null) as object);
function TreeNode(): void {}
TreeNode.prototype = NODE_PROTOTYPE;

/** A node that inherits nothing from `Object.prototype`. */
export function emptyTree(): SettingsTree {
  return new (TreeNode as unknown as new () => SettingsTree)();
}

/**
 * The first path (within `value`, objects and arrays included) that has an unsafe segment, down to
 * a leaf, so it names the key as its layer spells it (`etcd keel/a/__proto__/b`).
 */
export function unsafeKeyIn(value: unknown, prefix: readonly string[] = []): string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  for (const key of Object.keys(value)) {
    const path = [...prefix, key];
    if (isUnsafeSegment(key)) return firstLeafPath((value as SettingsTree)[key], path);
    const found = unsafeKeyIn((value as SettingsTree)[key], path);
    if (found) return found;
  }
  return undefined;
}

function firstLeafPath(value: unknown, path: string[]): string[] {
  const [first] = isPlainObject(value) ? Object.keys(value) : [];
  return first === undefined ? path : firstLeafPath((value as SettingsTree)[first], [...path, first]);
}

function copyOf(tree: SettingsTree): SettingsTree {
  return Object.assign(emptyTree(), tree);
}

export function isPlainObject(value: unknown): value is SettingsTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

export function getAt(tree: unknown, segments: readonly string[]): unknown {
  let node = tree;
  for (const segment of segments) {
    if (!isPlainObject(node) || !Object.prototype.hasOwnProperty.call(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

/** A copy of `tree` with `value` at `segments`; only the nodes on the path are copied. */
export function setAt(tree: SettingsTree, segments: readonly string[], value: unknown): SettingsTree {
  if (segments.length === 0) return isPlainObject(value) ? value : emptyTree();
  const [head, ...rest] = segments;
  const child = getAt(tree, [head]);
  const copy = copyOf(tree);
  copy[head] = rest.length === 0 ? value : setAt(isPlainObject(child) ? child : emptyTree(), rest, value);
  return copy;
}

/** A copy of `tree` without the leaf at `segments`; parents left empty are removed too. */
export function deleteAt(tree: SettingsTree, segments: readonly string[]): SettingsTree {
  if (segments.length === 0) return emptyTree();
  const [head, ...rest] = segments;
  if (!Object.prototype.hasOwnProperty.call(tree, head)) return tree;
  const copy = copyOf(tree);
  const child = tree[head];
  if (rest.length === 0 || !isPlainObject(child)) {
    if (rest.length === 0) delete copy[head];
    return copy;
  }
  const pruned = deleteAt(child, rest);
  if (Object.keys(pruned).length === 0) delete copy[head];
  else copy[head] = pruned;
  return copy;
}

/** `over` merged onto `base` key by key; arrays and scalars replace, objects merge. */
export function deepMerge(base: SettingsTree, over: SettingsTree): SettingsTree {
  const merged = copyOf(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = getAt(merged, [key]);
    merged[key] = isPlainObject(value) && isPlainObject(current) ? deepMerge(current, value) : value;
  }
  return merged;
}

/**
 * Every leaf (scalar, array or empty object) with its path, depth first in key order. A loop over
 * an explicit stack: neither a wide tree (130k leaves spread into one `push`) nor a deep one may
 * exhaust the call stack.
 */
export function leavesOf(tree: SettingsTree, prefix: readonly string[] = []): Array<[string[], unknown]> {
  const leaves: Array<[string[], unknown]> = [];
  const stack: Array<[string[], unknown]> = [];
  const pushChildren = (path: readonly string[], node: SettingsTree) => {
    const keys = Object.keys(node);
    for (let index = keys.length - 1; index >= 0; index--)
      stack.push([[...path, keys[index]], node[keys[index]]]);
  };
  pushChildren(prefix, tree);
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [path, value] = next;
    if (isPlainObject(value) && Object.keys(value).length > 0) pushChildren(path, value);
    else leaves.push(next);
  }
  return leaves;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordA = a as SettingsTree;
  const recordB = b as SettingsTree;
  return keysA.every(
    (key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(recordA[key], recordB[key]),
  );
}

/** Freezes in place, so views can hand out the shared value without copying on every read. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** A deep copy that shares nothing with `value`, for trees about to be frozen. */
export function cloneTree<T>(value: T): T {
  return structuredClone(value);
}

/** Puts `value` at `segments` by mutating `tree`; only for trees being built from scratch. */
export function insertLeaf(tree: SettingsTree, segments: readonly string[], value: unknown): void {
  let node = tree;
  for (const segment of segments.slice(0, -1)) {
    const child = getAt(node, [segment]);
    if (isPlainObject(child)) node = child;
    else node = node[segment] = emptyTree();
  }
  node[segments[segments.length - 1]] = value;
}
