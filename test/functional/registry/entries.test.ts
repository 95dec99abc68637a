import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { Discovery, HttpClientResource, type App } from '../../../lib';
import { quietLog, until } from '../../support/async';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient } from '../../support/etcd-client';
import { startCaller } from './helpers';

const PREFIX = 'keel-registry/greeter/';

function entry(id: string, addresses: unknown): string {
  return JSON.stringify({
    instance_id: id,
    service: 'greeter',
    deploy_name: 'test',
    addresses,
    started_at: new Date(0).toISOString(),
    metadata: {},
  });
}

describeWithEtcd('Discovery and registry entries written by hand', () => {
  let cluster: EtcdCluster;
  let etcd: Etcd3;
  let caller: App;
  const servers: Server[] = [];
  const records: Array<{ level: string; message: string; fields: object }> = [];
  const answered: string[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    etcd = etcdClient(cluster.members);
    for (const id of ['good-1', 'good-2']) {
      const server = createServer((_request, response) => {
        answered.push(id);
        response.end(id);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      const { port } = server.address() as AddressInfo;
      await etcd.put(`${PREFIX}${id}`).value(entry(id, { http: { host: '127.0.0.1', port } }));
    }
    await etcd.put(`${PREFIX}host-5`).value(entry('host-5', { http: { host: 5, port: 80 } }));
    await etcd.put(`${PREFIX}http-null`).value(entry('http-null', { http: null }));
    await etcd.put(`${PREFIX}slash`).value(entry('slash', { http: { host: 'evil.example/#', port: 80 } }));
    await etcd.put(`${PREFIX}not-json`).value('{"instance_id": ');
    await etcd.put(`${PREFIX}array`).value('[1, 2]');
    await etcd
      .put(`${PREFIX}other-id`)
      .value(entry('someone-else', { http: { host: '127.0.0.1', port: 1 } }));
    caller = await startCaller(cluster.hosts, quietLog(records));
  }, 60_000);

  afterAll(async () => {
    await caller?.stop();
    etcd?.close();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await cluster?.stop();
  }, 30_000);

  const skipped = () =>
    records.filter(({ level, message }) => level === 'warn' && message.startsWith('discovery skips'));

  it('30 calls with two healthy instances and six malformed entries: all succeed, each bad key said once', async () => {
    const discovery = caller.get(Discovery);
    expect(discovery.instances('greeter').map((instance) => instance.instance_id)).toEqual([
      'good-1',
      'good-2',
    ]);
    const client = caller.get<HttpClientResource>('greeter');
    const statuses: number[] = [];
    for (let call = 0; call < 30; call++) statuses.push((await client.get('/hello')).status);
    expect(statuses).toEqual(Array(30).fill(200));
    expect(new Set(answered)).toEqual(new Set(['good-1', 'good-2']));
    const messages = skipped().map(({ message }) => message);
    expect(messages).toHaveLength(6);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          `${PREFIX}host-5: "addresses.http.host" is not a host name or an IP address: 5`,
        ),
        expect.stringContaining(`${PREFIX}http-null: "addresses.http" is not an object`),
        expect.stringContaining(
          `${PREFIX}slash: "addresses.http.host" is not a host name or an IP address: "evil.example/#"`,
        ),
        expect.stringContaining(`${PREFIX}not-json: not a JSON object`),
        expect.stringContaining(`${PREFIX}array: not a JSON object`),
        expect.stringContaining(
          `${PREFIX}other-id: "instance_id" is "someone-else", not the key's "other-id"`,
        ),
      ]),
    );
  });

  it('a bad key written again is not said again; a good entry overwritten by a bad one leaves discovery at once', async () => {
    const before = skipped().length;
    await etcd.put(`${PREFIX}host-5`).value(entry('host-5', { http: { host: 6, port: 80 } }));
    await etcd.put(`${PREFIX}good-2`).value(entry('good-2', { http: { host: '127.0.0.1', port: 0 } }));
    const discovery = caller.get(Discovery);
    await until(() => discovery.instances('greeter').length === 1, 10_000, 'good-2 to leave');
    expect(discovery.instances('greeter')[0].instance_id).toBe('good-1');
    expect(
      skipped()
        .slice(before)
        .map(({ message }) => message),
    ).toEqual([
      expect.stringContaining(`${PREFIX}good-2: "addresses.http.port" is not a port from 1 to 65535: 0`),
    ]);
    const client = caller.get<HttpClientResource>('greeter');
    for (let call = 0; call < 5; call++) expect((await client.get('/hello')).status).toBe(200);
  });
});
