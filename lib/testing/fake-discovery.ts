import {
  InstancesListeners,
  pickInstance,
  type Discovery,
  type InstancesListener,
} from '../resources/registry/discovery';
import type { RegistryEntry } from '../resources/registry/entry';
import type { Replacement } from './harness';

/** An instance as a test names it: where its HTTP server listens; the rest of the entry is made up. */
export interface FakeInstance {
  port: number;
  /** `127.0.0.1` unless given. */
  host?: string;
  /** The HTTP server resource's name: `http` unless given. */
  server?: string;
  /** `<service>-<n>` unless given. */
  instance_id?: string;
  metadata?: Record<string, string>;
}

/**
 * A Discovery whose instances the test sets, for `overrideResource(Discovery).useValue(fake)`:
 * an `HttpClientResource` with `service:` picks from them round robin, as it does from etcd.
 */
export class FakeDiscovery implements Replacement<Discovery> {
  private readonly services = new Map<string, RegistryEntry[]>();
  private readonly listeners = new InstancesListeners();
  private readonly turns = new Map<string, number>();

  constructor(instances: Record<string, readonly (FakeInstance | RegistryEntry)[]> = {}) {
    for (const [service, list] of Object.entries(instances)) this.setInstances(service, list);
  }

  /** Replaces the instances of `service` (none: it is gone) and tells its watchers. */
  setInstances(service: string, instances: readonly (FakeInstance | RegistryEntry)[]): void {
    const entries = instances.map((instance, index) => entryOf(service, instance, index));
    if (entries.length === 0) this.services.delete(service);
    else this.services.set(service, entries);
    for (const listener of this.listeners.of(service)) listener(this.instances(service));
  }

  instances(service: string): RegistryEntry[] {
    return [...(this.services.get(service) ?? [])].sort((a, b) => a.instance_id.localeCompare(b.instance_id));
  }

  serviceNames(): string[] {
    return [...this.services.keys()].sort();
  }

  watch(service: string, listener: InstancesListener): () => void {
    return this.listeners.add(service, listener);
  }

  pick(
    service: string,
    exclude?: ReadonlySet<string>,
    accept?: (entry: RegistryEntry) => boolean,
  ): RegistryEntry | undefined {
    return pickInstance(this.instances(service), service, this.turns, exclude, accept);
  }
}

function entryOf(service: string, instance: FakeInstance | RegistryEntry, index: number): RegistryEntry {
  if ('addresses' in instance) return instance;
  return {
    instance_id: instance.instance_id ?? `${service}-${index + 1}`,
    service,
    deploy_name: 'test',
    addresses: { [instance.server ?? 'http']: { host: instance.host ?? '127.0.0.1', port: instance.port } },
    started_at: new Date(0).toISOString(),
    metadata: instance.metadata ?? {},
  };
}
