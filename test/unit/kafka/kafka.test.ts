import {
  consume,
  createMicroservice,
  GraphError,
  KafkaResource,
  Microservice,
  microservice,
  SettingsError,
  type KafkaMessageMeta,
} from '../../../lib';
import { checkKafkaSettings, type KafkaSettings } from '../../../lib/resources/kafka/settings';
import { quietLog } from '../../support/async';

@microservice({ name: 'lonely', resources: {} })
class Lonely extends Microservice {
  @consume('orders')
  onOrder(_order: unknown, _meta: KafkaMessageMeta): void {}
}

@microservice({ name: 'two', resources: { left: KafkaResource, right: KafkaResource } })
class Two extends Microservice {
  @consume('orders')
  onOrder(): void {}
}

const base = (): KafkaSettings => ({
  brokers: ['127.0.0.1:1'],
  client_id: '',
  codec: 'json',
  ssl: { enabled: false, ca: '', cert: '', key: '', reject_unauthorized: true },
  sasl: { mechanism: '', username: '', password: '' },
  insecure: false,
  connect_timeout_ms: 100,
  request_timeout_ms: 100,
  health_interval_ms: 100,
  validate_outgoing: 'auto',
  affects_readiness: true,
  producer: {
    idempotent: true,
    acks: 'all',
    compression: 'none',
    linger_ms: 0,
    batch_max_records: 10,
    publish_timeout_ms: 100,
  },
  consumer: {
    session_timeout_ms: 100,
    heartbeat_interval_ms: 10,
    max_wait_ms: 10,
    max_bytes_per_partition: 10,
    max_value_bytes: 10,
    handler_timeout_ms: 10,
    drain_timeout_ms: 10,
    retry: { attempts: 1, backoff_ms: 1, max_backoff_ms: 1 },
  },
});

describe('KafkaResource without a broker', () => {
  it('refuses @consume handlers in a service with no KafkaResource, naming the chain', async () => {
    const failure = await createMicroservice(Lonely, { log: quietLog() }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GraphError);
    expect((failure as Error).message).toContain(
      "Lonely declares @consume('orders') but lonely has no KafkaResource to consume for them",
    );
  });

  it('refuses a handler that does not say which of two KafkaResources consumes it', async () => {
    const app = await createMicroservice(Two, {
      log: quietLog(),
      settings: {
        system: {
          resources: {
            left: { brokers: ['127.0.0.1:1'], connect_timeout_ms: 50 },
            right: { brokers: ['127.0.0.1:1'], connect_timeout_ms: 50 },
          },
        },
      },
    });
    await expect(app.start()).rejects.toThrow(/add \{ resource: 'left' \| 'right' \}/);
  });

  it('fails the start on unsafe settings, naming the key', () => {
    const sasl = base();
    sasl.sasl = { mechanism: 'plain', username: 'u', password: 'p' };
    expect(() => checkKafkaSettings('events', sasl)).toThrow(SettingsError);
    expect(() => checkKafkaSettings('events', sasl)).toThrow(
      /system\.resources\.events\.ssl\.enabled is false/,
    );
    const unverified = base();
    unverified.ssl = { ...unverified.ssl, enabled: true, reject_unauthorized: false };
    expect(() => checkKafkaSettings('events', unverified)).toThrow(/ssl\.reject_unauthorized is false/);
    const loose = base();
    loose.producer.acks = 'leader';
    expect(() => checkKafkaSettings('events', loose)).toThrow(/producer\.acks must be 'all'/);
    const brokers = base();
    brokers.brokers = ['nohost'];
    expect(() => checkKafkaSettings('events', brokers)).toThrow(/brokers must list host:port entries/);
    const test = { ...sasl, insecure: true };
    expect(() => checkKafkaSettings('events', test)).not.toThrow();
  });
});
