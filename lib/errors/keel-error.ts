import type { KeelErrorCode } from './codes';

/**
 * The base of every error Keel raises: `instanceof KeelError` tells Keel's errors from others, and
 * `code` (one of the error table's, stable across versions) tells them apart; the message is for people.
 */
export abstract class KeelError extends Error {
  abstract readonly code: KeelErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
