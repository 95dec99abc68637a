import { SettingsError } from './errors';
import {
  deepMerge,
  emptyTree,
  getAt,
  isPlainObject,
  isUnsafeSegment,
  unsafeKeyIn,
  type SettingsTree,
} from './tree';

/** Lowest to highest: a later layer wins. */
export const LAYER_ORDER = ['defaults', 'file', 'etcd', 'env', 'internal'] as const;
export type LayerName = (typeof LAYER_ORDER)[number];

export interface SettingsLayer {
  readonly name: LayerName;
  readonly tree: SettingsTree;
  /** Where a key of this layer lives, for error messages: `etcd keel/system/x`, `env KEEL__SYSTEM__X`. */
  describe(path: readonly string[]): string;
}

export type LayerStack = Readonly<Record<LayerName, SettingsLayer>>;

export function layer(
  name: LayerName,
  tree: SettingsTree,
  describe?: (path: readonly string[]) => string,
): SettingsLayer {
  return { name, tree, describe: describe ?? ((path) => `${name} ${path.join('.')}`) };
}

/**
 * The layer as seen by one service: `system.microservices.<service>.<path>` merged key by key over
 * `system.<path>` (Tamarco replaced whole objects here, dropping sibling keys).
 */
export function resolveForService(tree: SettingsTree, serviceName: string): SettingsTree {
  const system = tree.system;
  const override = getAt(system, ['microservices', serviceName]);
  if (!isPlainObject(system) || !isPlainObject(override)) return tree;
  return { ...tree, system: deepMerge(system, override) };
}

/** Each layer resolved for the service first, so a higher layer always wins over a lower one. */
export function composeLayers(stack: LayerStack, serviceName: string): SettingsTree {
  let tree = emptyTree();
  for (const name of LAYER_ORDER) tree = deepMerge(tree, resolveForService(stack[name].tree, serviceName));
  return tree;
}

/** Which layer, and which key in it, gives the effective value at `path`. */
export function originOf(stack: LayerStack, serviceName: string, path: readonly string[]): string {
  const overridePath =
    path[0] === 'system' ? ['system', 'microservices', serviceName, ...path.slice(1)] : undefined;
  for (const name of [...LAYER_ORDER].reverse()) {
    const { tree, describe } = stack[name];
    if (overridePath && getAt(tree, overridePath) !== undefined) return describe(overridePath);
    if (getAt(tree, path) !== undefined) return describe(path);
  }
  return 'no layer sets it';
}

/** Throws when a key of the layer (or of an object value in it) would reach `Object.prototype`. */
export function refuseUnsafeKeys(source: SettingsLayer): void {
  const path = unsafeKeyIn(source.tree);
  if (path !== undefined) throw unsafeKeyError(path, source.describe(path));
}

export function unsafeKeyError(path: readonly string[], origin: string): SettingsError {
  const segment = path.find(isUnsafeSegment);
  return new SettingsError(
    'SETTINGS_UNSAFE_KEY',
    `Refused settings key "${path.join('.')}" (from ${origin}): "${segment}" may not be a key, it names the prototype of every object`,
  );
}
