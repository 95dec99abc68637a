// etcd3's refusal of calls to a host whose circuit is open (settings/etcd-source.ts counts such a
// refusal as no attempt at all): told by cockatiel's own flag on the error, on the pinned etcd3.
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../lib/settings/etcd-client';
import { etcdOptionsFromEnv } from '../../lib/settings/etcd-options';
import { isBrokenCircuit } from '../../lib/settings/etcd-source';
import { closedPort } from '../support/etcd';

describe("etcd3's open circuit", () => {
  it('refuses calls to a failing host with an error cockatiel flags, after failures that are not', async () => {
    const options = etcdOptionsFromEnv({ KEEL_ETCD_HOSTS: `127.0.0.1:${await closedPort()}` })!;
    const client = await createEtcdClient<Etcd3>(options);
    const errors: unknown[] = [];
    try {
      while (errors.length < 10 && !errors.some(isBrokenCircuit)) {
        await client
          .get('k')
          .options({ deadline: new Date(Date.now() + 2_000) })
          .string()
          .catch((error: unknown) => errors.push(error));
      }
    } finally {
      client.close();
    }
    expect(isBrokenCircuit(errors[0])).toBe(false);
    const refused = errors.find(isBrokenCircuit) as Error | undefined;
    expect(refused?.message).toContain('circuit breaker is open');
  });
});
