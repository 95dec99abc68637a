import { KeelError, type CodesOf } from '../../errors';

export type RegistryErrorCode = CodesOf<'RegistryError'>;

/** The registry or discovery cannot do what it was asked; the message names the setting or service. */
export class RegistryError extends KeelError {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}
