export type GraphErrorCode =
  | 'MISSING_NAME'
  | 'NOT_A_RESOURCE'
  | 'MISSING_PROVIDER'
  | 'AMBIGUOUS_PROVIDER'
  | 'CYCLE'
  | 'DUPLICATE_NAME'
  | 'CONSTRUCTOR_FAILED'
  | 'ASYNC_PROVIDER'
  | 'MISPLACED_TASK';

/** Anything wrong with the shape of a module, found before any constructor runs (but CONSTRUCTOR_FAILED). */
export class GraphError extends Error {
  override readonly name = 'GraphError';
  constructor(
    readonly code: GraphErrorCode,
    message: string,
    /** The names from the microservice down to the fault, e.g. `['billing_api', 'users', 'repo']`. */
    readonly chain: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const CHAIN_ARROW = ' → ';
