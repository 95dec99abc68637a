import type { CodesOf } from '../errors/codes';
import { KeelError } from '../errors/keel-error';

export type ContractErrorCode = CodesOf<'ContractError'>;

/** A schema that cannot be used, its validator missing, or a message that does not match its schema. */
export class ContractError extends KeelError {
  override readonly name = 'ContractError';
  constructor(
    readonly code: ContractErrorCode,
    message: string,
    options?: { cause?: unknown; problems?: readonly Problem[] },
  ) {
    super(message, options);
    this.problems = options?.problems ?? [];
  }

  /** For CONTRACT_INVALID_MESSAGE: what did not match, each with its JSON pointer. */
  readonly problems: readonly Problem[];
}

/** One way a value does not match its schema. */
export interface Problem {
  /** The JSON pointer (RFC 6901) of the offending value inside the part checked: `/items/0/qty`, `` for the whole. */
  readonly pointer: string;
  /** What is wrong, in ajv's words: `must be integer`, `must have required property 'sku'`. */
  readonly detail: string;
}
