/** How deep a chain of causes is followed: an error that is its own cause's cause must not loop. */
const MAX_CAUSES = 8;

/** What a record shows of an error: bunyan's fields, and the chain of causes it drops. */
export interface ErrorFields {
  name: string;
  message: string;
  /** The error's stack, then each cause's after `Caused by: `, as bunyan writes a VError's. */
  stack: string;
  code?: unknown;
  signal?: unknown;
  /** The error's `cause` (ES2022), itself with its code and cause; the stack above has its frames. */
  cause?: CauseFields | string;
}

export type CauseFields = Omit<ErrorFields, 'stack'>;

/**
 * The `err` serializer of every Keel logger. bunyan's own follows only VError's `cause()` method,
 * so a failed start logged the LifecycleError's stack and code alone, not those of the resource's
 * error that caused it.
 */
export function errorFields(error: unknown): unknown {
  if (!(error instanceof Error) || error.stack === undefined) return error;
  const chain = causesOf(error);
  return {
    ...causeFields(error, chain, 0),
    stack: [error.stack, ...chain.map((cause) => `Caused by: ${stackOf(cause)}`)].join('\n'),
  };
}

function causesOf(error: Error): unknown[] {
  const chain: unknown[] = [];
  const seen = new Set<unknown>([error]);
  for (let cause = nextCause(error); cause !== undefined && !seen.has(cause); cause = nextCause(cause)) {
    if (chain.length === MAX_CAUSES) break;
    seen.add(cause);
    chain.push(cause);
  }
  return chain;
}

function nextCause(error: unknown): unknown {
  if (!(error instanceof Error)) return undefined;
  const legacy = (error as { cause?: unknown }).cause;
  return typeof legacy === 'function' ? (legacy as () => unknown).call(error) : legacy;
}

function causeFields(error: Error, chain: readonly unknown[], depth: number): CauseFields {
  const { code, signal } = error as { code?: unknown; signal?: unknown };
  const cause = chain[depth];
  return {
    name: error.name,
    message: error.message,
    ...(code !== undefined && { code }),
    ...(signal !== undefined && { signal }),
    ...(cause !== undefined && {
      cause: cause instanceof Error ? causeFields(cause, chain, depth + 1) : String(cause),
    }),
  };
}

function stackOf(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : String(cause);
}
