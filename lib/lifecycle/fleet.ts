import type { Etcd3 } from 'etcd3';
import { callDeadline, createEtcdClient } from '../settings/etcd-client';
import type { EtcdConnectionOptions } from '../settings/etcd-options';
import type { FleetClaims } from './cron';

/**
 * The ticks of `fleet: 'one'` schedules, claimed in etcd: one key per task and tick,
 * `<prefix>cron/<service>/<task>/<tick>`, created only if absent (a transaction on its create
 * revision), so of the instances that ask, exactly one wins each tick, and an instance that died
 * simply asks no more. Each claim is put on a lease of its own, which expires after `ttlS`: the
 * keys go away, and an instance whose clock lags by less than that still finds the tick taken.
 */
export class EtcdFleetClaims implements FleetClaims {
  private client?: Promise<Etcd3>;

  constructor(
    private readonly options: EtcdConnectionOptions,
    private readonly serviceName: string,
    private readonly instanceId: string,
    private readonly ttlS: number,
  ) {}

  async claim(task: string, tickMs: number): Promise<boolean> {
    this.client ??= createEtcdClient(this.options);
    const client = await this.client;
    const key = `${this.options.prefix}cron/${this.serviceName}/${task}/${new Date(tickMs).toISOString()}`;
    const options = callDeadline(this.options);
    const lease = client.lease(this.ttlS, { autoKeepAlive: false });
    let timer: NodeJS.Timeout | undefined;
    // etcd3 gives a lease grant no deadline of its own.
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `etcd did not answer within ${this.options.callTimeoutMs} ms (KEEL_ETCD_CALL_TIMEOUT_MS)`,
            ),
          ),
        this.options.callTimeoutMs,
      );
    });
    try {
      const leaseId = await Promise.race([lease.grant(), late]);
      const { succeeded } = await client
        .if(key, 'Create', '==', 0)
        .then(client.put(key).value(this.instanceId).lease(leaseId))
        .options(options)
        .commit();
      return succeeded;
    } finally {
      clearTimeout(timer);
      // A lost claim's lease holds no key: it expires rather than cost a call.
      lease.release();
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) (await client.catch(() => undefined))?.close();
  }
}
