import type { SettingsIssue } from './errors';
import { showValue } from './redact';
import { compileSchema, parseJsonOr, type CompiledSchema } from './schema';
import { getAt, insertLeaf, isPlainObject, splitPath, type SettingsTree } from './tree';
import type { SettingsScope } from './types';

export interface CompiledScope {
  readonly path: string;
  readonly segments: readonly string[];
  readonly owner: string;
  readonly schema?: CompiledSchema;
}

/** The scopes the provider validates, each schema compiled once at load. */
export class ScopeSet {
  readonly scopes: readonly CompiledScope[];

  constructor(scopes: readonly SettingsScope[]) {
    this.scopes = scopes.map((scope) => ({
      path: scope.path,
      segments: splitPath(scope.path),
      owner: scope.owner,
      schema: scope.schema === undefined ? undefined : compileSchema(scope.schema, scope.path),
    }));
  }

  /** Every scope's schema defaults placed at the scope's path: the lowest layer. */
  defaults(): SettingsTree {
    const tree: SettingsTree = {};
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
      const value = getAt(after, scope.segments);
      for (const leaf of scope.schema.leaves) {
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
          shownValue: problem === 'invalid' ? showValue(fullPath, leafValue) : undefined,
        });
      }
    }
    return issues;
  }

  /** Full paths of keys present under a scope that its schema does not declare. */
  unknownKeys(tree: SettingsTree): string[] {
    const unknown: string[] = [];
    for (const scope of this.scopes) {
      const schema = scope.schema;
      if (!schema) continue;
      const visit = (node: unknown, path: string[]): void => {
        if (!isPlainObject(node)) return;
        for (const [key, child] of Object.entries(node)) {
          const childPath = [...path, key];
          const kind = schema.kindOf(childPath);
          if (kind === undefined) unknown.push([...scope.segments, ...childPath].join('.'));
          else if (kind === 'node') visit(child, childPath);
        }
      };
      visit(getAt(tree, scope.segments), []);
    }
    return unknown;
  }
}

function startsWithIgnoringCase(path: readonly string[], prefix: readonly string[]): boolean {
  return (
    prefix.length <= path.length && prefix.every((segment, index) => segment.toLowerCase() === path[index])
  );
}
