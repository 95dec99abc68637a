/**
 * Keel's reaches into a dependency's internals (prom-client's series store, bunyan's logger fields):
 * each checks the shape it expects before it uses it, and where the shape is not there (an upgrade
 * moved it) it takes the dependency's public API, slower and never wrong, and says so once per
 * process on stderr (`process.emitWarning`, code `KEEL_INTERNAL_FALLBACK`). The contract tests in
 * `test/contract/` run each fast path against the public behaviour, and force each fallback.
 */

/** Reaches whose fallback was taken in this process, each warned about once. */
const warned = new Set<string>();

/** The code of the warning a fallback emits. */
export const FALLBACK_WARNING = 'KEEL_INTERNAL_FALLBACK';

/** Says once per process that `reach` found another shape (`found`) and took the public API. */
export function fallbackTaken(reach: string, found: string): void {
  if (warned.has(reach)) return;
  warned.add(reach);
  process.emitWarning(
    `${reach}: ${found}; Keel uses the dependency's public API instead (slower, same result). ` +
      'The installed version is not the one package.json pins: report it if that version is supported.',
    { code: FALLBACK_WARNING },
  );
}
