import { KeelError, type CodesOf } from '../../errors';

export type KafkaErrorCode = CodesOf<'KafkaError'>;

/** A failure of a KafkaResource: its library, a publish, a handler's run, its handlers' binding. */
export class KafkaError extends KeelError {
  override readonly name = 'KafkaError';
  constructor(
    readonly code: KafkaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
