export type RegistryErrorCode = 'REGISTRY_NO_ETCD' | 'DISCOVERY_NOT_STARTED' | 'NO_INSTANCE';

/** The registry or discovery cannot do what it was asked; the message names the setting or service. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}
