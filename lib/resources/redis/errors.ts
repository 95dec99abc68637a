import { KeelError, type CodesOf } from '../../errors';

export type RedisErrorCode = CodesOf<'RedisError'>;

/**
 * A failure of a RedisResource: its library, its connection, a command's timeout, or the server's
 * error reply (`reply` is its first word: `WRONGTYPE`, `NOAUTH`, ...). The driver's error is not
 * kept as the cause: it carries the command's arguments (AUTH's password among them).
 */
export class RedisError extends KeelError {
  override readonly name = 'RedisError';
  /** The command's name (`get`, `rpush`, ...), for a command's failure. */
  readonly command?: string;
  readonly reply?: string;

  constructor(
    readonly code: RedisErrorCode,
    message: string,
    options: { command?: string; reply?: string } = {},
  ) {
    super(message);
    if (options.command !== undefined) this.command = options.command;
    if (options.reply !== undefined) this.reply = options.reply;
  }
}
