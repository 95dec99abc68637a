import { addGraphCheck } from '../../container/checks';
import type { Log } from '../../lifecycle/log';
import type { Infer, Schema } from '../../contracts/schema';
import { requireKafkaForConsumers } from './check';

/** What a `@consume` handler gets beside the decoded value. */
export interface KafkaMessageMeta {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset, as Kafka's decimal string. */
  readonly offset: string;
  /** The record's key as UTF-8, or undefined for a record without one. */
  readonly key: string | undefined;
  /** Milliseconds since the epoch, as the record carries them. */
  readonly timestamp: number;
  /** The record's headers, each as UTF-8 text (a repeated header: its last value). */
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string;
  /** The consumer group that took the record. */
  readonly group: string;
  /** From the `x-request-id` header, or generated for a record without one. */
  readonly requestId: string;
  /** 0 for the first run of the handler, then 1, 2… for each retry. */
  readonly attempt: number;
  /** Aborted when the run's `handler_timeout_ms` passes: work still going on should stop. */
  readonly signal: AbortSignal;
  /** The resource's logger with `request_id`, `topic` and `partition` bound. */
  readonly log: Log;
}

/** Where a group member is: what `/status` shows. */
export interface ConsumerState {
  topic: string;
  group: string;
  /** Partitions of `topic` assigned to this member. */
  partitions: number[];
  /** Records behind the partition's end, per partition, as of the last record handled. */
  lag: Record<string, number>;
  running: boolean;
}

/** Resolves (or returns) once the record is handled: only then is its offset committed. */
export type KafkaHandler<T = never> = (message: T, meta: KafkaMessageMeta) => unknown;

export interface ConsumeOptions<S extends Schema = Schema> {
  /**
   * The record's schema: a record whose decoded value does not match is dead-lettered at once with
   * the problems as its reason (counted, never retried), and the handler's value is typed from it.
   */
  schema?: S;
  /** The consumer group; `<service>.<topic>` by default, shared by the service's instances. */
  group?: string;
  /** Partitions handled at once (each in order, one record at a time); 1 by default. */
  concurrency?: number;
  /** A group with no committed offset starts at the oldest record rather than the next one. */
  fromBeginning?: boolean;
  /** Name of the KafkaResource that consumes; required when the service has several. */
  resource?: string;
}

/** The handler `@consume` with options `O` accepts: its value typed from `schema`. */
export type ConsumerFor<O> = (
  message: O extends { schema: infer S } ? Infer<S> : never,
  meta: KafkaMessageMeta,
) => unknown;

export interface DeclaredConsumer extends ConsumeOptions {
  topic: string;
  key: string | symbol;
}

const consumersByPrototype = new WeakMap<object, DeclaredConsumer[]>();

/** Every record of `topic`, once per consumer group, at least once: see KafkaResource. */
export function consume<const O extends ConsumeOptions = ConsumeOptions<never>>(
  topic: string,
  options: O = {} as O,
) {
  return <H extends ConsumerFor<O>>(
    prototype: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    if (typeof descriptor.value !== 'function') {
      throw new TypeError(`@consume('${topic}') must decorate a method, not ${String(key)}`);
    }
    addGraphCheck(prototype, requireKafkaForConsumers);
    const declared = consumersByPrototype.get(prototype) ?? [];
    declared.push({ ...options, topic, key });
    consumersByPrototype.set(prototype, declared);
  };
}

/** The `@consume` handlers declared on `prototype`'s class and the classes it extends, base classes first. */
export function consumersOfPrototype(prototype: object | null): DeclaredConsumer[] {
  const chain: DeclaredConsumer[][] = [];
  for (let proto = prototype; proto !== null;) {
    const own = consumersByPrototype.get(proto);
    if (own !== undefined) chain.unshift(own);
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return chain.flat();
}
