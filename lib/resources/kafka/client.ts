import type * as Kafkajs from 'kafkajs';
import { KafkaError } from './errors';

export type KafkajsModule = typeof Kafkajs;

let loaded: KafkajsModule | undefined;

/**
 * kafkajs is an optional peer dependency: a service without a KafkaResource never loads it, and
 * one with it gets an error naming the package rather than a bare MODULE_NOT_FOUND.
 */
export function loadKafkajs(resource: string): KafkajsModule {
  if (loaded !== undefined) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('kafkajs') as KafkajsModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new KafkaError(
      'KAFKA_MISSING_DEPENDENCY',
      `KafkaResource '${resource}' needs the package kafkajs, which is not installed: npm install kafkajs`,
      { cause: error },
    );
  }
  return loaded;
}
