import type { SettingsIssue } from './errors';
import { showValue } from './redact';
import { compileSchema, parseJsonOr, type CompiledSchema } from './schema';
import { emptyTree, getAt, insertLeaf, isPlainObject, splitPath, type SettingsTree } from './tree';
import type { SettingsRule, SettingsScope } from './types';

export interface CompiledScope {
  readonly path: string;
  readonly segments: readonly string[];
  readonly owner: string;
  readonly schema?: CompiledSchema;
  readonly rules: readonly SettingsRule[];
}

/** The scopes the provider validates, each schema compiled once at load. */
export class ScopeSet {
  readonly scopes: readonly CompiledScope[];
  private lookup?: { byPath: Map<string, CompiledScope>; above: Set<string> };

  constructor(scopes: readonly SettingsScope[]) {
    this.scopes = scopes.map((scope) => ({
      path: scope.path,
      segments: splitPath(scope.path),
      owner: scope.owner,
      schema: scope.schema === undefined ? undefined : compileSchema(scope.schema, scope.path),
      rules: scope.rules ?? [],
    }));
  }

  /** Every scope's schema defaults placed at the scope's path: the lowest layer. */
  defaults(): SettingsTree {
    const tree = emptyTree();
    for (const scope of this.scopes) {
      if (scope.schema && scope.segments.length > 0) insertLeaf(tree, scope.segments, scope.schema.defaults);
    }
    return tree;
  }

  /**
   * The schema's spelling of a path given in lower case, and the raw string parsed by that leaf's
   * format. `system.microservices.<service>.<path>` is resolved like `system.<path>`.
   */
  resolveEnvPath(path: string[], raw: string): { path: string[]; value: unknown } {
    const isOverride = path[0] === 'system' && path[1] === 'microservices' && path.length > 3;
    const general = isOverride ? ['system', ...path.slice(3)] : path;
    for (const scope of this.scopes) {
      if (!scope.schema || !startsWithIgnoringCase(general, scope.segments)) continue;
      const leaf = scope.schema.leafMatching(general.slice(scope.segments.length));
      if (!leaf) continue;
      const canonical = [...scope.segments, ...leaf.path];
      return {
        path: isOverride ? [...path.slice(0, 3), ...canonical.slice(1)] : canonical,
        value: leaf.coerce(raw),
      };
    }
    return { path, value: parseJsonOr(raw) };
  }

  /** Every bad or missing key of the scopes in `after` (only those `changed` accepts, when given). */
  validate(
    after: SettingsTree,
    originOf: (path: readonly string[]) => string,
    changed?: (scope: CompiledScope) => boolean,
  ): SettingsIssue[] {
    const issues: SettingsIssue[] = [];
    for (const scope of this.scopes) {
      if (!scope.schema || (changed && !changed(scope))) continue;
      const before = issues.length;
      const value = getAt(after, scope.segments);
      // A scalar where the schema has an object hides every key below it: say that, once.
      const replaced: string[][] = [];
      for (const node of scope.schema.nodes) {
        if (replaced.some((path) => startsWith(node.path, path))) continue;
        const nodeValue = node.path.length === 0 ? value : getAt(value, node.path);
        if (nodeValue === undefined || isPlainObject(nodeValue)) continue;
        replaced.push([...node.path]);
        const fullPath = [...scope.segments, ...node.path];
        issues.push({
          path: fullPath.join('.'),
          owner: scope.owner,
          problem: 'invalid',
          expected: `an object with keys ${node.keys.join(', ')}`,
          origin: originOf(fullPath),
          shownValue: showValue(fullPath, nodeValue),
        });
      }
      for (const leaf of scope.schema.leaves) {
        if (replaced.some((path) => startsWith(leaf.path, path))) continue;
        const leafValue = getAt(value, leaf.path);
        const problem = leaf.check(leafValue);
        if (problem === undefined) continue;
        const fullPath = [...scope.segments, ...leaf.path];
        issues.push({
          path: fullPath.join('.'),
          owner: scope.owner,
          problem,
          expected: leaf.expected,
          origin: problem === 'missing' ? 'no layer sets it' : originOf(fullPath),
          shownValue: problem === 'invalid' ? showValue(fullPath, leafValue, leaf.sensitive) : undefined,
          reason: problem === 'invalid' ? leaf.reason(leafValue) : undefined,
        });
      }
      // A rule reads keys of the scope as their formats guarantee them: only once none is bad.
      if (issues.length === before && isPlainObject(value))
        issues.push(...brokenRules(scope, value, originOf));
    }
    return issues;
  }

  /** Full paths of the leaves whose schema says `sensitive: true`. */
  sensitivePaths(): string[][] {
    return this.scopes.flatMap((scope) =>
      (scope.schema?.leaves ?? [])
        .filter((leaf) => leaf.sensitive)
        .map((leaf) => [...scope.segments, ...leaf.path]),
    );
  }

  /**
   * Keys present in `tree` that no scope declares: inside a scope its schema does not have, and
   * outside every scope (`system.lifecyle`, `system.resources.htpp`, `sytem`), each with the
   * closest key that is declared.
   */
  unknownKeys(tree: SettingsTree): UnknownKey[] {
    const unknown: string[][] = [];
    const visit = (node: unknown, path: string[]): void => {
      if (!isPlainObject(node)) return;
      for (const [key, child] of Object.entries(node)) {
        const childPath = [...path, key];
        const kind = this.kindOf(childPath);
        if (kind === undefined) unknown.push(childPath);
        else if (kind === 'node') visit(child, childPath);
      }
    };
    visit(tree, []);
    if (unknown.length === 0) return [];
    const known = this.knownPaths();
    return unknown.map((path) => ({ path, closest: closest(path.join('.'), known) }));
  }

  /** 'open': anything may be below it (a scope without schema, another service's overrides). */
  private kindOf(path: readonly string[]): 'leaf' | 'node' | 'open' | undefined {
    if (OPEN_PATHS.some((open) => startsWith(path, open))) return 'open';
    const { byPath, above } = this.index();
    // The shortest scope path that `path` is in, as the first match of a walk in declaration order found.
    for (let length = 0; length <= path.length; length++) {
      const scope = byPath.get(path.slice(0, length).join('.'));
      if (scope === undefined) continue;
      if (!scope.schema) return 'open';
      return path.length === scope.segments.length ? 'node' : scope.schema.kindOf(path.slice(length));
    }
    return above.has(path.join('.')) ? 'node' : undefined;
  }

  /**
   * Scopes by dotted path (the first declared wins), and every proper prefix of a scope path:
   * a graph of a thousand resources has a thousand scopes, and each key of the tree was compared
   * with all of them.
   */
  private index(): { byPath: Map<string, CompiledScope>; above: Set<string> } {
    if (this.lookup === undefined) {
      const byPath = new Map<string, CompiledScope>();
      const above = new Set<string>();
      for (const scope of this.scopes) {
        if (!byPath.has(scope.path)) byPath.set(scope.path, scope);
        // From the longest prefix down: once one is known, so are all the shorter ones.
        for (let end = scope.path.lastIndexOf('.'); end > 0; end = scope.path.lastIndexOf('.', end - 1)) {
          const prefix = scope.path.slice(0, end);
          if (above.has(prefix)) break;
          above.add(prefix);
        }
        if (scope.segments.length > 0) above.add('');
      }
      this.lookup = { byPath, above };
    }
    return this.lookup;
  }

  private knownPaths(): string[] {
    return [
      ...OPEN_PATHS.map((path) => path.join('.')),
      ...this.scopes.flatMap((scope) =>
        scope.schema
          ? scope.schema.leaves.map((leaf) => [...scope.segments, ...leaf.path].join('.'))
          : [scope.path],
      ),
    ];
  }
}

/** A key no schema declares, and the declared key it most looks like. */
function brokenRules(
  scope: CompiledScope,
  value: object,
  originOf: (path: readonly string[]) => string,
): SettingsIssue[] {
  return scope.rules
    .filter((rule) => rule.breaks(value))
    .map((rule) => {
      const fullPath = [...scope.segments, ...splitPath(rule.key)];
      return {
        path: fullPath.join('.'),
        owner: scope.owner,
        problem: 'invalid',
        expected: rule.expected,
        origin: originOf(fullPath),
        shownValue: showValue(fullPath, getAt(value, splitPath(rule.key))),
      };
    });
}

export interface UnknownKey {
  path: string[];
  closest: string | undefined;
}

/**
 * Keys Keel reads without a scope: `system.deploy_name`, and `system.microservices.<service>`,
 * whose overrides are checked as the `system` keys they override (other services' are theirs).
 */
const OPEN_PATHS: readonly string[][] = [
  ['system', 'deploy_name'],
  ['system', 'microservices'],
];

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, index) => path[index] === segment);
}

/**
 * The known key closest to `key`: compared segment by segment over the length they share, so
 * `system.resources.htpp.port` finds `system.resources.http.port`, and `sytem` finds `system...`.
 */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const segments = key.split('.');
  for (const candidate of known) {
    const head = candidate.split('.').slice(0, segments.length).join('.');
    const distance = editDistance(key, head);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  // Too far off to be a misspelling of it.
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

function startsWithIgnoringCase(path: readonly string[], prefix: readonly string[]): boolean {
  return (
    prefix.length <= path.length && prefix.every((segment, index) => segment.toLowerCase() === path[index])
  );
}
