import { KeelError } from '../errors';

/** A `system.logging` value Keel cannot use; the message names the key and what it accepts. */
export class LoggingSettingsError extends KeelError {
  readonly code = 'KEEL_LOGGING_SETTINGS';

  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'LoggingSettingsError';
  }
}
