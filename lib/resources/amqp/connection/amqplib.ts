import type * as Amqplib from 'amqplib';
import { AmqpError } from '../errors';

export type AmqplibModule = typeof Amqplib;

/** What an AmqpResource connects through: amqplib, or an in-memory broker's stand-in for it. */
export type AmqpTransport = Pick<AmqplibModule, 'connect'>;

let loaded: AmqplibModule | undefined;
const transports = new WeakMap<object, AmqpTransport>();

/** Makes `resource` connect through `transport` rather than amqplib (the testing kit's broker); returns it. */
export function useTransport(resource: object, transport: AmqpTransport): AmqpTransport {
  transports.set(resource, transport);
  return transport;
}

/** The transport `useTransport` gave `resource`, else amqplib. */
export function transportOf(resource: object, name: string): AmqpTransport {
  return transports.get(resource) ?? loadAmqplib(name);
}

/**
 * amqplib is an optional peer dependency: a service without an AmqpResource never loads it, and
 * one with it gets an error naming the package rather than a bare MODULE_NOT_FOUND.
 */
export function loadAmqplib(resource: string): AmqplibModule {
  if (loaded !== undefined) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('amqplib') as AmqplibModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new AmqpError(
      'AMQP_MISSING_DEPENDENCY',
      `AmqpResource '${resource}' needs the package amqplib, which is not installed: npm install amqplib`,
      { cause: error },
    );
  }
  return loaded;
}
