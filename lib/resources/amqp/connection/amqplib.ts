import type * as Amqplib from 'amqplib';
import { AmqpError } from '../errors';

export type AmqplibModule = typeof Amqplib;

let loaded: AmqplibModule | undefined;

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
