import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { parse } from 'yaml';
import { SettingsProvider } from '../../../lib/settings';
import { describeWithEtcd, EtcdCluster } from '../../support/etcd';
import { etcdClient, putSetting } from '../../support/etcd-client';
import { keel, startKeel, type RunningCli } from '../../support/etcd-keel-cli';

jest.setTimeout(60_000);

const TREE = `
system:
  deploy_name: "prod-eu"
  logging:
    profile: PRODUCTION
  resources:
    http:
      port: 8080
      ratio: 0.25
      enabled: true
      nothing: null
      port_as_text: "8080"
      empty: ""
      hosts: [a, b]
      nested: { deep: { deeper: ünïcødé } }
      db_password: hunter2
  microservices:
    billing:
      logging:
        profile: DEVELOP
`;

function fileWith(content: string, name = 'settings.yml'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'keel-cli-')), name);
  writeFileSync(path, content);
  return path;
}

describeWithEtcd('keel settings', () => {
  let cluster: EtcdCluster;
  let client: Etcd3;
  let env: NodeJS.ProcessEnv;
  const watchers: RunningCli[] = [];

  beforeAll(async () => {
    cluster = await EtcdCluster.start(1);
    client = etcdClient(cluster.members);
    env = { KEEL_ETCD_HOSTS: cluster.hosts, KEEL_ETCD_PREFIX: 'cli/', KEEL_ETCD_CHECK_KEY: 'cli_ready' };
  });

  afterEach(() => {
    for (const watcher of watchers.splice(0))
      if (watcher.child.exitCode === null) watcher.child.kill('SIGKILL');
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it('push writes one JSON key per leaf, then the check key; values read back identically through the provider', async () => {
    const pushed = await keel(['settings', 'push', fileWith(TREE)], env);
    expect(pushed).toMatchObject({ code: 0, stderr: '' });
    expect(pushed.stdout).toContain('pushed 12 keys');
    expect(await client.get('cli/system/resources/http/port').string()).toBe('8080');
    expect(await client.get('cli/system/resources/http/port_as_text').string()).toBe('"8080"');
    expect(await client.get('cli_ready').string()).toBe('true');

    const settings = await SettingsProvider.load({ serviceName: 'someone', scopes: [], env, cwd: __dirname });
    expect(settings.get('system')).toEqual(parse(TREE).system);
    await settings.close();
    const billing = await SettingsProvider.load({ serviceName: 'billing', scopes: [], env, cwd: __dirname });
    expect(billing.get('system.logging.profile')).toBe('DEVELOP');
    await billing.close();
  });

  it('get prints the stored tree or one leaf with secrets redacted', async () => {
    await keel(['settings', 'push', fileWith(TREE)], env);
    const all = await keel(['settings', 'get'], env);
    expect(all.code).toBe(0);
    expect(parse(all.stdout).system.resources.http).toMatchObject({ port: 8080, db_password: '[redacted]' });
    expect(all.stdout).not.toContain('hunter2');
    expect(await keel(['settings', 'get', 'system.resources.http.db_password'], env)).toMatchObject({
      code: 0,
      stdout: '[redacted]\n',
    });
    expect(await keel(['settings', 'get', 'system.resources.http.port_as_text'], env)).toMatchObject({
      stdout: '"8080"\n',
    });
    expect(await keel(['settings', 'get', 'system.nothing_here'], env)).toMatchObject({ code: 1 });
  });

  it('push leaves stale keys alone, and removes them only with --prune', async () => {
    await keel(['settings', 'push', fileWith(TREE)], env);
    await client.put('cli/system/stale').value('1');
    await keel(['settings', 'push', fileWith('system: { deploy_name: x }\n')], env);
    expect(await client.get('cli/system/stale').string()).toBe('1');
    const pruned = await keel(['settings', 'push', fileWith('system: { deploy_name: x }\n'), '--prune'], env);
    expect(pruned.stdout).toContain('pruned 12');
    expect(await client.getAll().prefix('cli/').keys()).toEqual(['cli/system/deploy_name']);
    expect(await client.get('cli_ready').string()).toBe('true');
  });

  it('watch prints each change under a path, with secrets redacted', async () => {
    const watcher = startKeel(['settings', 'watch', 'system.resources'], env);
    watchers.push(watcher);
    await watcher.waitFor(/watching "cli\/system\/resources"/);
    await putSetting(client, 'cli/', 'system.resources.http.port', 9999);
    await putSetting(client, 'cli/', 'system.deploy_name', 'outside the watched path');
    await putSetting(client, 'cli/', 'system.resources.db.password', 'hunter2');
    await client.delete().key('cli/system/resources/http/port');
    await watcher.waitFor(/system\.resources\.http\.port = \(deleted\)/);
    expect(watcher.output()).toMatch(
      /\d+ system\.resources\.http\.port = 9999\n\d+ system\.resources\.db\.password = \[redacted\]\n/,
    );
    expect(watcher.output()).not.toContain('hunter2');
    expect(watcher.output()).not.toContain('deploy_name');
    watcher.child.kill('SIGTERM');
    expect(await watcher.exited).toBe(0);
  });

  it('exits 2 with the usage on a wrong command line, and when KEEL_ETCD_HOSTS is missing', async () => {
    const wrong = await keel(['settings', 'pull'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown command: settings pull');
    expect(wrong.stderr).toContain('Usage:');
    const noHosts = await keel(['settings', 'get'], { KEEL_ETCD_HOSTS: '' });
    expect(noHosts.code).toBe(2);
    expect(noHosts.stderr).toContain('KEEL_ETCD_HOSTS is not set');
  });

  it('names file, line and column of a syntax error in the pushed file, and exits 1', async () => {
    const result = await keel(['settings', 'push', fileWith('system:\n  a: [1,\n', 'broken.yaml')], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Syntax error in settings file .*broken\.yaml at line \d+, column \d+/);
  });
});
