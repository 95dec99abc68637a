import type { Etcd3 } from 'etcd3';
import {
  createMicroservice,
  HttpServerResource,
  inject,
  Microservice,
  microservice,
  resource,
  SETTINGS,
  type SettingsOf,
  type SettingsView,
} from '../../../lib';
import { quietLog } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient } from '../../support/etcd-client';

jest.setTimeout(60_000);

const stockSchema = { threshold: { doc: 'Level under which stock is low', format: 'nat', default: 5 } };
const notesSchema = { channel: { doc: 'Where notes go', format: String, default: '#general' } };

@resource({ settings: stockSchema })
class Stock {
  constructor(@inject(SETTINGS) readonly settings: SettingsView<SettingsOf<typeof stockSchema>>) {}
}

@resource({ settings: notesSchema })
class Notes {
  constructor(@inject(SETTINGS) readonly settings: SettingsView<SettingsOf<typeof notesSchema>>) {}
}

@microservice({ name: 'inventory', resources: { http: HttpServerResource, stock: Stock } })
class Inventory extends Microservice {}

@microservice({ name: 'notifier', resources: { notes: Notes } })
class Notifier extends Microservice {}

/** The README's fleet layout: what all share under `system`, each service's own under `system.microservices.<service>`. */
const FLEET: Record<string, unknown> = {
  'system/settings/unknown_keys': 'error',
  'system/logging/level': 'warn',
  'system/resources/report_server/port': 0,
  'system/microservices/inventory/resources/http/port': 0,
  'system/microservices/inventory/resources/stock/threshold': 2,
  'system/microservices/notifier/resources/notes/channel': '#ops',
};

describeWithEtcd('a fleet in one etcd prefix', () => {
  let cluster: EtcdCluster;
  let client: Etcd3;

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    client = etcdClient(cluster.members);
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  async function put(prefix: string, keys: Record<string, unknown>): Promise<void> {
    for (const [key, value] of Object.entries(keys))
      await client.put(`${prefix}${key}`).value(JSON.stringify(value));
  }

  const env = (prefix: string) => ({ KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_PREFIX: prefix });

  it('each service reads its own keys and the shared ones, with no warning even under unknown_keys: error', async () => {
    await put('fleet/', FLEET);
    const records: { level: string; message: string; fields: object }[] = [];
    const inventory = await createMicroservice(Inventory, { log: quietLog(records), env: env('fleet/') });
    const notifier = await createMicroservice(Notifier, { log: quietLog(records), env: env('fleet/') });
    try {
      expect(inventory.get(Stock).settings.get('threshold')).toBe(2);
      expect(notifier.get(Notes).settings.get('channel')).toBe('#ops');
      expect(records.filter((record) => record.level !== 'info' && record.level !== 'debug')).toEqual([]);
    } finally {
      await Promise.all([inventory.stop(), notifier.stop()]);
    }
  });

  it("a resource's keys under system.resources fail the services without that resource", async () => {
    await put('flat/', { ...FLEET, 'system/resources/stock/threshold': 2 });
    const refused = createMicroservice(Notifier, { log: quietLog(), env: env('flat/') });
    await expect(refused).rejects.toMatchObject({
      code: 'SETTINGS_INVALID',
      message: expect.stringContaining('system.resources.stock'),
    });
  });
});
