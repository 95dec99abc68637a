// `keel/testing`: what a service's tests use. The same bundle as Keel's entry, so one copy of Keel.
export {
  Test,
  TestingModuleBuilder,
  type OverrideBuilder,
  type Replacement,
  type TestSettings,
  type TypeOfNameRequired,
} from './harness';
export { InMemoryBroker, type PublishedMessage, type BrokerSendOptions } from './amqp-broker';
export { FakeDiscovery, type FakeInstance } from './fake-discovery';
export { messageMeta, type MessageMetaFields } from './message-meta';
export { ManualClock } from './manual-clock';
