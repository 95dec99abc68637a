/**
 * The small helpers every part of Keel uses (and a user's resource may): one copy each, so that a
 * thenable or a thrown non-Error is read the same way everywhere.
 */

/** The text of anything thrown: an Error's message, anything else as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether `error` is what an aborted AbortSignal makes a wait reject with (`AbortError`, by name, as Node's own). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Whether `value` is a thenable (a Promise, or any object or function with a `then` method): what
 * `await` treats as pending work, so what a hook's timeout and a handler's wait must treat so too.
 */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
