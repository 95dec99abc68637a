import type * as Cockatiel from 'cockatiel';

export type CockatielModule = typeof Cockatiel;

let loaded: CockatielModule | undefined;

/**
 * cockatiel is required on first use, not at import: its 28 modules are read only by a service
 * that makes an outgoing call or runs a reconnect loop.
 */
export function cockatiel(): CockatielModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require('cockatiel') as CockatielModule);
}
