/**
 * An optional peer dependency, required on first use: a service that never uses the resource never
 * loads it, and one that does gets `missing(cause)` (an error naming the package) rather than a bare
 * MODULE_NOT_FOUND. `require`, not `import()`: jest's vm refuses a dynamic import inside the bundle.
 */
export function requirePeer<T>(name: string, missing: (cause: Error) => Error): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw missing(error as Error);
  }
}
