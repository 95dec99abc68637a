import type * as Kafkajs from 'kafkajs';
import { requirePeer } from '../../errors/peer';
import { KafkaError } from './errors';

export type KafkajsModule = typeof Kafkajs;

let loaded: KafkajsModule | undefined;

export function loadKafkajs(resource: string): KafkajsModule {
  loaded ??= requirePeer<KafkajsModule>(
    'kafkajs',
    (cause) =>
      new KafkaError(
        'KAFKA_MISSING_DEPENDENCY',
        `KafkaResource '${resource}' needs the package kafkajs, which is not installed: npm install kafkajs`,
        { cause },
      ),
  );
  return loaded;
}
