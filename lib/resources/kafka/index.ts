export { KafkaResource, type PublishOptions } from './resource';
export {
  consume,
  type ConsumeOptions,
  type ConsumerState as KafkaConsumerState,
  type KafkaHandler,
  type KafkaMessageMeta,
} from './decorators';
export { KafkaError, type KafkaErrorCode } from './errors';
export { kafkaSchema, type KafkaSettings } from './settings';
export { kafkaAsyncApi } from './contracts/asyncapi';
