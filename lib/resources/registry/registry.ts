import { hostname } from 'node:os';
import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import { inject } from '../../container/injection';
import { resource } from '../../container/decorators';
import { LOGGER, SERVICE, SETTINGS } from '../../container/tokens';
import { instanceIdentity } from '../../identity/instance';
import { messageOf } from '../../util';
import type { Log } from '../../lifecycle/log';
import type { ResourceHealth } from '../../lifecycle/manager';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import { ResourceStatus } from '../../lifecycle/status';
import { Backoff } from '../../resilience/backoff';
import { callDeadline, createEtcdClient, describeHosts } from '../../settings/etcd-client';
import { etcdOptionsFromEnv, type EtcdConnectionOptions } from '../../settings/etcd-options';
import type { SettingsView } from '../../settings/types';
import { HttpServerResource } from '../http/server';
import { registryKey, type RegistryAddress, type RegistryEntry } from './entry';
import { RegistryError } from './errors';
import { registrySchema, type RegistrySettings } from './settings';

const ANY_ADDRESS = new Set(['0.0.0.0', '::', '']);

/**
 * This instance's entry in the service registry: `<prefix><service>/<instance_id>` in etcd, held
 * by a lease kept alive while the process lives. It appears once the service is ready and goes
 * first when a stop begins, before readiness turns false and before the HTTP drain, so that peers
 * stop choosing it while it still answers. A lost lease is registered again when etcd is back.
 */
@resource({ settings: registrySchema, name: 'registry' })
export class RegistryResource {
  private options?: EtcdConnectionOptions;
  private client?: Etcd3;
  private lease?: Lease;
  private leaseId?: string;
  /** Every lease this resource was granted: an entry on one of them is its own, not a duplicate's. */
  private readonly ownLeases = new Set<string>();
  private watcher?: Promise<Watcher>;
  private registeredAt?: string;
  private lastAlive = 0;
  private confirming = false;
  private watchdog?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private degraded?: string;
  private active = false;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<RegistrySettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
  ) {
    service.onReady(() => this.register());
    service.beforeStopping(() => this.deregister());
  }

  /** The etcd key of this instance. */
  get key(): string {
    return registryKey(this.settings.value().prefix, this.service.name, instanceIdentity().instance_id);
  }

  async start(): Promise<void> {
    if (!this.settings.value().enabled) return;
    const options = etcdOptionsFromEnv(this.service.env);
    if (options === undefined) {
      throw new RegistryError(
        'REGISTRY_NO_ETCD',
        `system.resources.registry.enabled is true but KEEL_ETCD_HOSTS is not set: the registry lives in etcd`,
      );
    }
    this.options = options;
    this.client = await createEtcdClient<Etcd3>(options);
    // A restart of this resource alone: the service is ready already, onReady will not come again.
    if (this.service.isReady()) await this.register();
  }

  async stop(): Promise<void> {
    await this.deregister();
    this.client?.close();
    this.client = undefined;
  }

  status(): ResourceHealth {
    if (this.degraded !== undefined) return { status: ResourceStatus.CONNECTING, text: this.degraded };
    return ResourceStatus.STARTED;
  }

  /** What this instance publishes (or would): identity, HTTP addresses, metadata. */
  entry(): RegistryEntry {
    const { instance_id, version, revision } = instanceIdentity();
    const { metadata } = this.settings.value();
    return {
      instance_id,
      service: this.service.name,
      ...(version !== undefined && { version }),
      ...(revision !== undefined && { revision }),
      deploy_name: this.service.deployName(),
      addresses: this.addresses(),
      started_at: (this.registeredAt ??= new Date().toISOString()),
      metadata,
    };
  }

  private addresses(): Record<string, RegistryAddress> {
    const advertised = this.settings.value().advertise_host;
    const addresses: Record<string, RegistryAddress> = {};
    for (const node of this.service.graph.nodes) {
      const server = this.service.instance(node.name);
      if (!(server instanceof HttpServerResource)) continue;
      const bound = server.address();
      if (bound === undefined) continue;
      const host =
        advertised !== '' ? advertised : ANY_ADDRESS.has(bound.address) ? hostname() : bound.address;
      addresses[node.name] = { host, port: bound.port };
    }
    return addresses;
  }

  /** One attempt now; if etcd does not answer, the service runs on and attempts continue in the background. */
  private async register(): Promise<void> {
    if (this.client === undefined || this.active) return;
    this.active = true;
    try {
      await this.putEntry();
      this.log.info({ key: this.key, ttl_s: this.settings.value().ttl_s }, `registered as ${this.key}`);
    } catch (error) {
      this.loseLease(
        `cannot register ${this.key} on ${describeHosts(this.options!)}: ${messageOf(error)}`,
        error,
      );
    }
  }

  private async putEntry(): Promise<void> {
    const client = this.client!;
    const options = this.options!;
    const { ttl_s } = this.settings.value();
    const lease = client.lease(ttl_s, { ...callDeadline(options), autoKeepAlive: true });
    this.lease = lease;
    lease.on('keepaliveSucceeded', () => (this.lastAlive = Date.now()));
    lease.on('lost', (error: Error) => {
      if (this.lease === lease) this.loseLease(`lease of ${this.key} lost: ${error.message}`);
    });
    try {
      const leaseId = await lease.grant();
      this.ownLeases.add(leaseId);
      this.leaseId = leaseId;
      await this.claim(leaseId);
    } catch (error) {
      if (this.lease === lease) this.lease = undefined;
      lease.release();
      throw error;
    }
    if (!this.active) {
      // Deregistered while this put was on its way: it must not outlive the stop.
      await lease.revoke(callDeadline(options)).catch(() => undefined);
      return;
    }
    this.lastAlive = Date.now();
    this.degraded = undefined;
    this.watchOwnKey();
    // etcd3 calls a lease lost only after twice its TTL; past one TTL etcd has dropped the entry already.
    clearInterval(this.watchdog);
    this.watchdog = setInterval(
      () => {
        if (Date.now() - this.lastAlive > ttl_s * 1000) this.confirmLease(lease, ttl_s);
      },
      Math.max(100, (ttl_s * 1000) / 4),
    );
    this.watchdog.unref();
  }

  /**
   * A silent keep-alive stream is not proof the entry is gone: a new etcd leader extends every lease
   * while the stream reconnects to another member. One keep-alive call, which fails over like any
   * other, asks etcd itself; only its refusal or its silence within the call timeout loses the lease.
   */
  private confirmLease(lease: Lease, ttl_s: number): void {
    if (this.confirming) return;
    this.confirming = true;
    lease.keepaliveOnce(callDeadline(this.options!)).then(
      (answer) => {
        this.confirming = false;
        if (this.lease !== lease) return;
        if (Number(answer.TTL) > 0) this.lastAlive = Date.now();
        else this.loseLease(`lease of ${this.key} expired in etcd: the entry is gone`);
      },
      (error: unknown) => {
        this.confirming = false;
        if (this.lease !== lease) return;
        this.loseLease(
          `no keep-alive of ${this.key} answered for ${ttl_s} s (ttl_s) and etcd did not confirm the lease (${messageOf(error)}): the entry has expired`,
          error,
        );
      },
    );
  }

  /**
   * Puts the entry on `leaseId` unless another live lease holds the key: a second process with this
   * instance_id (a copied identity, a restarted pod whose old one still runs) is refused, so the
   * entry always names one process. A key written without a lease (by hand) is taken back. The
   * put is conditional on what was read, so two claimants racing cannot both win.
   */
  private async claim(leaseId: string): Promise<void> {
    const client = this.client!;
    const deadline = callDeadline(this.options!);
    const key = this.key;
    for (let round = 0; ; round++) {
      const [held] = (await client.get(key).options(deadline).exec()).kvs;
      if (held !== undefined && held.lease !== '0' && !this.ownLeases.has(held.lease)) {
        throw new RegistryError(
          'REGISTRY_DUPLICATE_INSTANCE',
          `${key} is registered by another process (lease ${held.lease}): two instances share instance_id ${instanceIdentity().instance_id}; this one stays out of the registry until that entry goes`,
        );
      }
      const put = client.put(key).value(JSON.stringify(this.entry())).lease(leaseId);
      const { succeeded } = await client
        .if(key, 'Mod', '==', held?.mod_revision ?? 0)
        .then(put)
        .options(deadline)
        .commit();
      if (succeeded) return;
      // Written between the read and the put: read it again, a few times at most.
      if (round === 2) throw new Error(`${key} keeps changing under the registration`);
    }
  }

  /** The entry deleted or overwritten by someone else is put back (or, held by a duplicate, left to it loudly). */
  private watchOwnKey(): void {
    if (this.watcher !== undefined) return;
    const key = this.key;
    const watcher = this.client!.watch().key(key).create();
    this.watcher = watcher;
    const changed = (what: string) => {
      if (!this.active || this.lease === undefined || this.retry !== undefined) return;
      this.log.warn({ key }, `${key} was ${what} by someone else: putting it back`);
      this.claim(this.leaseId!).then(
        () => this.log.info({ key }, `${key} put back`),
        (error: unknown) => this.loseLease(`cannot put ${key} back: ${messageOf(error)}`, error),
      );
    };
    watcher.then(
      (open) => {
        open.on('delete', () => changed('deleted'));
        open.on('put', (kv: IKeyValue) => {
          if (!this.ownLeases.has(kv.lease)) changed(`overwritten (lease ${kv.lease})`);
        });
        open.on('error', () => undefined);
      },
      (error: unknown) => {
        if (this.watcher === watcher) this.watcher = undefined;
        this.log.warn({ key, err: error }, `cannot watch ${key}: ${messageOf(error)}`);
      },
    );
  }

  private stopWatching(): void {
    const watcher = this.watcher;
    this.watcher = undefined;
    void watcher?.then((open) => open.cancel()).catch(() => undefined);
  }

  private loseLease(reason: string, cause?: unknown): void {
    if (!this.active || this.retry !== undefined) return;
    clearInterval(this.watchdog);
    this.lease?.release();
    this.lease = undefined;
    const duplicate = (cause as { code?: unknown } | undefined)?.code === 'REGISTRY_DUPLICATE_INSTANCE';
    this.degraded = `degraded: ${reason}; registering again when ${duplicate ? 'the key is free' : 'etcd answers'}`;
    if (duplicate) this.log.error({ key: this.key }, this.degraded);
    else this.log.warn({ key: this.key }, this.degraded);
    const ttlMs = this.settings.value().ttl_s * 1000;
    const backoff = new Backoff({ initialMs: 100, maxMs: Math.max(100, ttlMs / 2) });
    const attempt = (): void => {
      this.retry = setTimeout(() => {
        if (!this.active) return;
        this.putEntry().then(
          () => {
            this.retry = undefined;
            this.log.info({ key: this.key }, `registered again as ${this.key} with a new lease`);
          },
          () => attempt(),
        );
      }, backoff.next());
      this.retry.unref();
    };
    attempt();
  }

  /** Revokes the lease, which deletes the entry; bounded by the etcd call timeout. */
  private async deregister(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.stopWatching();
    clearInterval(this.watchdog);
    clearTimeout(this.retry);
    this.retry = undefined;
    this.degraded = undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    try {
      await lease.revoke(callDeadline(this.options!));
      this.log.info({ key: this.key }, `deregistered ${this.key}`);
    } catch (error) {
      this.log.warn(
        { key: this.key, err: error },
        `cannot deregister ${this.key} (${messageOf(error)}); it expires within ${this.settings.value().ttl_s} s`,
      );
    }
  }
}
