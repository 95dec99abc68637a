import { KeelError, type CodesOf } from '../errors';

/** Stable codes of every error the settings layer raises. */
export type SettingsErrorCode = CodesOf<'SettingsError'>;

/** One bad or missing key, as listed in a `SETTINGS_INVALID` error. */
export interface SettingsIssue {
  /** Full dotted path, e.g. `system.resources.http.port`. */
  path: string;
  /** The resource (or `keel`) whose schema declares the key. */
  owner: string;
  /** `unknown`: no schema declares the key (refused with `system.settings.unknown_keys: error`). */
  problem: 'missing' | 'invalid' | 'unknown';
  expected: string;
  /** Where the value came from: `file config/production.yaml`, `etcd keel/system/...`, `env KEEL__...`. */
  origin: string;
  /** The value, already redacted when the key looks secret; absent when missing. */
  shownValue?: string;
  /** What a custom format said about the value, when it said something. */
  reason?: string;
}

export class SettingsError extends KeelError {
  override readonly name = 'SettingsError';

  constructor(
    readonly code: SettingsErrorCode,
    message: string,
    readonly issues: readonly SettingsIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function describeIssue(issue: SettingsIssue): string {
  if (issue.problem === 'unknown')
    return `[${issue.owner}] ${issue.path} (from ${issue.origin}): ${issue.expected}`;
  const what =
    issue.problem === 'missing'
      ? 'missing: no layer sets it and the schema has no default'
      : `got ${issue.shownValue} (from ${issue.origin})${issue.reason === undefined ? '' : `: ${issue.reason}`}`;
  return `[${issue.owner}] ${issue.path}: expected ${issue.expected}, ${what}`;
}

/** One error listing every issue, one per line, so a single boot shows everything to fix. */
export function issuesError(
  code: SettingsErrorCode,
  title: string,
  issues: readonly SettingsIssue[],
): SettingsError {
  const lines = issues.map((issue) => `  - ${describeIssue(issue)}`);
  const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`;
  return new SettingsError(code, `${title} (${count}):\n${lines.join('\n')}`, issues);
}
