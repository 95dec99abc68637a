import { KeelError, type CodesOf } from '../errors';

export type GraphErrorCode = CodesOf<'GraphError'>;

/** Anything wrong with the shape of a module, found before any constructor runs (but CONSTRUCTOR_FAILED). */
export class GraphError extends KeelError {
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
