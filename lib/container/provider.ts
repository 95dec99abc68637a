import type { ServiceIdentifier } from './injection';

// Constructors of resources take whatever the graph resolves for them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResourceClass<T = unknown> = new (...args: any[]) => T;

export type Token = ServiceIdentifier;

/** How a node of the graph gets its instance, whether declared in a module or swapped in by a test. */
export type Provision =
  | { useValue: unknown }
  | { useClass: ResourceClass }
  | { useFactory: (...deps: never[]) => unknown; inject?: Token[] };

export type Provider = { provide: Token } & Provision;

export function describeToken(token: unknown): string {
  if (typeof token === 'function') return token.name || '<anonymous class>';
  if (typeof token === 'symbol') return token.toString();
  return JSON.stringify(token) ?? String(token);
}
