export type KafkaErrorCode =
  | 'MISSING_DEPENDENCY'
  | 'NOT_STARTED'
  | 'PUBLISH_FAILED'
  | 'PUBLISH_TIMEOUT'
  | 'UNKNOWN_RESOURCE'
  | 'AMBIGUOUS_RESOURCE'
  | 'HANDLER_TIMEOUT';

/** A failure of a KafkaResource: its library, its cluster, a publish, its handlers' binding. */
export class KafkaError extends Error {
  override readonly name = 'KafkaError';
  constructor(
    readonly code: KafkaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
