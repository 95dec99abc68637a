import type { Etcd3 } from 'etcd3';
import {
  createMicroservice,
  HttpServerResource,
  Microservice,
  microservice,
  RegistryResource,
  type App,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient } from '../../support/etcd-client';

@microservice({ name: 'own_key', resources: { http: HttpServerResource, registry: RegistryResource } })
class Owner extends Microservice {}

type Records = Array<{ level: string; message: string; fields: object }>;

describeWithEtcd('RegistryResource keeps its own key', () => {
  let cluster: EtcdCluster;
  let etcd: Etcd3;
  const apps: App[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    etcd = etcdClient(cluster.members);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    etcd?.close();
    await cluster?.stop();
  }, 30_000);

  // Two apps in one process share its instance_id: the case of two processes given one identity.
  async function start(records: Records): Promise<App> {
    const app = await createMicroservice(Owner, {
      env: { ...process.env, KEEL_ETCD_HOSTS: cluster.hosts },
      log: quietLog(records),
      settings: {
        system: {
          resources: { report_server: { port: 0 }, http: { port: 0 }, registry: { enabled: true, ttl_s: 2 } },
        },
      },
    });
    apps.push(app);
    await app.start();
    return app;
  }

  const held = async (key: string) => {
    const [kv] = (await etcd.get(key).exec()).kvs;
    return kv === undefined ? undefined : { lease: kv.lease, value: kv.value.toString() };
  };

  async function eventually(key: string, check: (kv: Awaited<ReturnType<typeof held>>) => boolean) {
    let last: Awaited<ReturnType<typeof held>>;
    const deadline = Date.now() + 15_000;
    while (!check((last = await held(key)))) {
      if (Date.now() > deadline) throw new Error(`${key} never got there: ${JSON.stringify(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return last;
  }

  it('deleted or overwritten by hand, the entry is put back and it is logged; a second process with the same instance_id is refused loudly and takes over once the first stops', async () => {
    const firstLog: Records = [];
    const first = await start(firstLog);
    const registry = first.get(RegistryResource);
    const key = registry.key;
    const original = await eventually(key, (kv) => kv !== undefined && kv.lease !== '0');

    await etcd.delete().key(key);
    const back = await eventually(key, (kv) => kv !== undefined);
    expect(back).toEqual(original);
    expect(firstLog.map(({ message }) => message)).toContain(
      `${key} was deleted by someone else: putting it back`,
    );

    await etcd.put(key).value('{"instance_id":"forged"}');
    await eventually(key, (kv) => kv?.lease === original!.lease);
    expect(firstLog.map(({ message }) => message)).toContain(
      `${key} was overwritten (lease 0) by someone else: putting it back`,
    );

    const secondLog: Records = [];
    const second = await start(secondLog);
    await until(
      () =>
        secondLog.some(
          ({ level, message }) => level === 'error' && message.includes('is registered by another process'),
        ),
      10_000,
      'the duplicate refused',
    );
    expect(second.get(RegistryResource).status()).toMatchObject({
      status: 'CONNECTING',
      text: expect.stringContaining(`two instances share instance_id`) as unknown,
    });
    expect((await held(key))?.lease).toBe(original!.lease);

    await first.stop();
    const taken = await eventually(key, (kv) => kv !== undefined && kv.lease !== original!.lease);
    expect(JSON.parse(taken!.value)).toMatchObject({ service: 'own_key' });
    await until(() => second.get(RegistryResource).status() === 'STARTED', 10_000, 'the second registered');
  }, 60_000);
});
