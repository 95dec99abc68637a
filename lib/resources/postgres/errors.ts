import { KeelError, type CodesOf } from '../../errors';

export type PostgresErrorCode = CodesOf<'PostgresError'>;

/**
 * A failure of a PostgresResource: its library, its connection, its pool, or a query the server
 * refused. `sqlState` is the server's SQLSTATE (`23505`, `57014`, ...) when it answered with one.
 * No message carries the password: the server never sends it back, and what Keel adds is masked.
 */
export class PostgresError extends KeelError {
  override readonly name = 'PostgresError';
  readonly sqlState?: string;
  /** The caller-given name of the query (`QueryOptions.name`), if any. */
  readonly query?: string;

  constructor(
    readonly code: PostgresErrorCode,
    message: string,
    options: { cause?: unknown; sqlState?: string; query?: string } = {},
  ) {
    super(message, { cause: options.cause });
    if (options.sqlState !== undefined) this.sqlState = options.sqlState;
    if (options.query !== undefined) this.query = options.query;
  }
}
