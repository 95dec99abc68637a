import { compileSchema } from './schema';
import { REDACTED } from './redact';
import { splitPath } from './tree';
import type { SettingsScope } from './types';

/** One setting as `keel settings describe` shows it, read from the schema that declares it. */
export interface SettingDescription {
  /** The full dotted path: `system.resources.http.port`. */
  key: string;
  /** The resource (or `keel`) whose schema declares it. */
  owner: string;
  /** The values the format accepts: `port (0-65535)`, `one of ["warn","error"]`. */
  type: string;
  /** The schema's default, `[redacted]` when the key is sensitive; absent when there is none. */
  default?: unknown;
  nullable: boolean;
  sensitive: boolean;
  /** `live`: a change applies while the service runs; `restart`: it is read at start. */
  applies: 'live' | 'restart';
  doc?: string;
}

/** Every leaf of every scope's schema, in the scopes' order and each schema's own. */
export function describeSettings(scopes: readonly SettingsScope[]): SettingDescription[] {
  return scopes.flatMap((scope) =>
    scope.schema === undefined
      ? []
      : compileSchema(scope.schema, scope.path).leaves.map((leaf) => ({
          key: [...splitPath(scope.path), ...leaf.path].join('.'),
          owner: scope.owner,
          type: leaf.expected,
          ...(leaf.defaultValue !== undefined && { default: leaf.sensitive ? REDACTED : leaf.defaultValue }),
          nullable: leaf.nullable,
          sensitive: leaf.sensitive,
          applies: leaf.live ? ('live' as const) : ('restart' as const),
          ...(leaf.doc !== undefined && { doc: leaf.doc }),
        })),
  );
}
