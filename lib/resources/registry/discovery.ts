import { inject } from '../../container/injection';
import { resource } from '../../container/decorators';
import { LOGGER, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import { etcdOptionsFromEnv, normalizePrefix } from '../../settings/etcd-options';
import { EtcdSettingsSource, type EtcdChange } from '../../settings/etcd-source';
import type { SettingsView } from '../../settings/types';
import { readRegistryEntry, type RegistryEntry } from './entry';
import { RegistryError } from './errors';
import { discoverySchema, type DiscoverySettings } from './settings';

export type InstancesListener = (instances: readonly RegistryEntry[]) => void;

/** Listeners of each service's instances: a `watch` adds one and returns its removal. */
export class InstancesListeners {
  private readonly byService = new Map<string, Set<InstancesListener>>();

  add(service: string, listener: InstancesListener): () => void {
    let set = this.byService.get(service);
    if (set === undefined) this.byService.set(service, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  of(service: string): Iterable<InstancesListener> {
    return this.byService.get(service) ?? [];
  }
}

/** Round robin over those of `all` that `accept` takes, by `turns` of `service`, skipping `exclude` unless nothing else is left. */
export function pickInstance(
  all: readonly RegistryEntry[],
  service: string,
  turns: Map<string, number>,
  exclude?: ReadonlySet<string>,
  accept?: (entry: RegistryEntry) => boolean,
): RegistryEntry | undefined {
  const open = accept === undefined ? all : all.filter(accept);
  const fresh = exclude === undefined ? open : open.filter((entry) => !exclude.has(entry.instance_id));
  const choices = fresh.length > 0 ? fresh : open;
  if (choices.length === 0) return undefined;
  const turn = turns.get(service) ?? 0;
  turns.set(service, turn + 1);
  return choices[turn % choices.length];
}

/**
 * The live instances of every service in the registry, from a local cache: one read of the prefix,
 * then a watch that resumes from the last revision it applied (the settings source's watch), so a
 * disconnect neither loses a removal nor brings back a stale entry. `pick` is round robin.
 */
@resource({ settings: discoverySchema, name: 'discovery' })
export class Discovery {
  private source?: EtcdSettingsSource;
  private readonly services = new Map<string, Map<string, RegistryEntry>>();
  private readonly listeners = new InstancesListeners();
  private readonly turns = new Map<string, number>();
  /** Keys whose entry was refused, each logged once while it stays bad. */
  private readonly refused = new Set<string>();
  private prefix = '';

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<DiscoverySettings>,
    @inject(LOGGER) private readonly log: Log,
    @inject(SERVICE) private readonly service: ServiceHandle,
  ) {}

  async start(): Promise<void> {
    const options = etcdOptionsFromEnv(this.service.env);
    if (options === undefined) {
      throw new RegistryError(
        'REGISTRY_NO_ETCD',
        'Discovery reads the registry from etcd, and KEEL_ETCD_HOSTS is not set',
      );
    }
    const prefix = normalizePrefix(this.settings.value().prefix);
    this.prefix = prefix;
    const source = await EtcdSettingsSource.open({ ...options, prefix, checkKey: undefined });
    this.source = source;
    this.services.clear();
    for (const [service, instances] of Object.entries(source.tree())) {
      if (typeof instances !== 'object' || instances === null || Array.isArray(instances)) continue;
      for (const [id, value] of Object.entries(instances)) this.set(service, id, value);
    }
    source.watch({
      onChanges: (changes) => this.apply(changes),
      onProblem: (message) => this.log.warn({ prefix }, message),
    });
  }

  async stop(): Promise<void> {
    await this.source?.close();
    this.source = undefined;
  }

  /** The live instances of `service`, ordered by instance id. */
  instances(service: string): RegistryEntry[] {
    this.assertStarted();
    return [...(this.services.get(service)?.values() ?? [])].sort((a, b) =>
      a.instance_id.localeCompare(b.instance_id),
    );
  }

  /** Services with at least one live instance. */
  serviceNames(): string[] {
    this.assertStarted();
    return [...this.services.keys()].sort();
  }

  /** Calls `listener` with the instances of `service` after every change to them; returns the unsubscribe. */
  watch(service: string, listener: InstancesListener): () => void {
    return this.listeners.add(service, listener);
  }

  /**
   * The next instance of `service` in round robin among those `accept` takes (an open circuit
   * breaker refuses its instance), skipping those in `exclude` (the ones a retry already tried)
   * unless nothing else is left; undefined when none is registered or accepted.
   */
  pick(
    service: string,
    exclude?: ReadonlySet<string>,
    accept?: (entry: RegistryEntry) => boolean,
  ): RegistryEntry | undefined {
    return pickInstance(this.instances(service), service, this.turns, exclude, accept);
  }

  private apply(changes: readonly EtcdChange[]): void {
    const touched = new Set<string>();
    for (const { path, value } of changes) {
      if (path.length !== 2) continue;
      const [service, id] = path;
      if (value === undefined) {
        this.services.get(service)?.delete(id);
        this.refused.delete(`${service}/${id}`);
      } else this.set(service, id, value);
      if (this.services.get(service)?.size === 0) this.services.delete(service);
      touched.add(service);
    }
    for (const service of touched) {
      const instances = this.instances(service);
      for (const listener of this.listeners.of(service)) {
        try {
          listener(instances);
        } catch (error) {
          this.log.error({ err: error, service }, `a discovery listener of ${service} failed`);
        }
      }
    }
  }

  private set(service: string, id: string, value: unknown): void {
    const key = `${service}/${id}`;
    const entry = readRegistryEntry(value, service, id);
    if (typeof entry === 'string') {
      // An entry that was good and is now overwritten by a bad one is no instance any more.
      this.services.get(service)?.delete(id);
      if (!this.refused.has(key)) {
        this.refused.add(key);
        this.log.warn(
          { key: `${this.prefix}${key}`, problem: entry },
          `discovery skips the registry entry ${this.prefix}${key}: ${entry} (said once until it changes to a good one or is deleted)`,
        );
      }
      return;
    }
    this.refused.delete(key);
    let instances = this.services.get(service);
    if (instances === undefined) this.services.set(service, (instances = new Map()));
    instances.set(id, entry);
  }

  private assertStarted(): void {
    if (this.source === undefined)
      throw new RegistryError(
        'DISCOVERY_NOT_STARTED',
        'Discovery is used before its start hook ran (or after stop)',
      );
  }
}
