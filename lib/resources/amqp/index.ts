export { AmqpResource, type SendOptions, type RequestOptions } from './resource';
export { Codecs, CODECS, encodeWith, jsonCodec, yamlCodec, rawCodec, type Codec } from './codecs/codec';
export {
  subscribe,
  respond,
  pull,
  permanent,
  type MessageMeta,
  type MessageHandler,
  type MessagePattern,
  type HandlerOptions,
  type SubscribeOptions,
} from './handlers/decorators';
export {
  AmqpError,
  AmqpRequestError,
  CodecError,
  type AmqpErrorCode,
  type AmqpRequestErrorCode,
  type CodecErrorCode,
} from './errors';
export { amqpSchema, type AmqpSettings } from './settings';
export { amqpAsyncApi } from './contracts/asyncapi';
