import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { parse } from 'yaml';
import { runCli } from '../../../lib/cli/commands';
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
    expect(settings.get('system')).toEqual({ ...parse(TREE).system, settings: { unknown_keys: 'warn' } });
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

  describe('push --service', () => {
    const SERVICE = 'test/functional/settings/fixtures/push-service.ts';
    const serviceEnv = (): NodeJS.ProcessEnv => ({
      ...env,
      KEEL_ETCD_PREFIX: 'svc/',
      KEEL_ETCD_CHECK_KEY: '',
    });
    /** The same command in this process: quicker than a child for the cases that need no exit code. */
    async function keelHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, {
        env: serviceEnv(),
        out: { write: (text: string) => (stdout += text) },
        err: { write: (text: string) => (stderr += text) },
      });
      return { code, stdout, stderr };
    }
    const GOOD = 'system:\n  resources:\n    catalog:\n      list_limit: 20\n      mode: fast\n';

    it('validates the whole resulting tree, lists every problem and writes nothing when it is invalid', async () => {
      await client.put('svc/system/resources/catalog/mode').value('"fast"');
      const bad = fileWith(
        'system:\n  resources:\n    catalog:\n      list_limit: -3\n      mdoe: safe\n  lifecycle:\n    stop_timeout_ms: 3000000000\n',
      );
      const result = await keel(['settings', 'push', bad, '--service', SERVICE], serviceEnv());
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Refused to push');
      expect(result.stderr).toContain(
        'the settings of service "catalog_api" would be invalid; nothing was written (2 problems)',
      );
      expect(result.stderr).toContain(
        '[catalog] system.resources.catalog.list_limit: expected nat (integer >= 0), got -3 (from etcd svc/system/resources/catalog/list_limit after the push)',
      );
      expect(result.stderr).toContain('[keel] system.lifecycle.stop_timeout_ms: expected duration');
      expect(result.stderr).toContain(
        'system.resources.catalog.mdoe: no schema declares it; did you mean system.resources.catalog.mode?',
      );
      expect(await client.getAll().prefix('svc/').strings()).toEqual({
        'svc/system/resources/catalog/mode': '"fast"',
      });
    });

    it("refuses an unsafe deployment as the start would, naming the key: credentialed CORS for '*'", async () => {
      await client.delete().prefix('svc/');
      const unsafe = fileWith(
        "system:\n  resources:\n    http:\n      cors:\n        enabled: true\n        origins: ['*']\n        credentials: true\n",
      );
      const result = await keelHere([
        'settings',
        'push',
        unsafe,
        '--service',
        'test/functional/settings/fixtures/push-http-service.ts',
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'the settings of service "storefront" would be invalid; nothing was written',
      );
      expect(result.stderr).toContain(
        "system.resources.http.cors.credentials: expected false while cors.origins lists '*'",
      );
      expect(await client.getAll().prefix('svc/').strings()).toEqual({});
    });

    it('--dry-run shows what would change and writes nothing; a push writes only the changed keys', async () => {
      await client.delete().prefix('svc/');
      await client.put('svc/system/resources/catalog/mode').value('"fast"');
      await client.put('svc/system/resources/catalog/api_token').value('"old-secret"');
      const file = fileWith(`${GOOD}      api_token: new-secret\n`);
      const dry = await keelHere(['settings', 'push', file, '--service', SERVICE, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('+ svc/system/resources/catalog/list_limit = 20\n');
      expect(dry.stdout).toContain('~ svc/system/resources/catalog/api_token: [redacted] -> [redacted]\n');
      expect(dry.stdout).not.toContain('mode');
      expect(dry.stdout).not.toContain('secret');
      expect(dry.stdout).toContain('dry run: would write 2 keys and delete 0');
      expect(await client.get('svc/system/resources/catalog/list_limit').string()).toBeNull();

      const modeBefore = await client.get('svc/system/resources/catalog/mode').exec();
      const pushed = await keelHere(['settings', 'push', file, '--service', SERVICE]);
      expect(pushed.stdout).toContain('pushed 2 keys');
      expect(pushed.stdout).toContain('(1 unchanged)');
      const modeAfter = await client.get('svc/system/resources/catalog/mode').exec();
      expect(modeAfter.kvs[0].mod_revision).toBe(modeBefore.kvs[0].mod_revision);
      const again = await keelHere(['settings', 'push', file, '--service', SERVICE]);
      expect(again.stdout).toContain('pushed 0 keys');
      expect(again.stdout).toContain('(3 unchanged)');
    });

    it('redacts what the schema alone marks sensitive: push, --dry-run and get --service', async () => {
      await client.delete().prefix('svc/');
      await client.put('svc/system/resources/catalog/vault_word').value('"old-sesame"');
      const file = fileWith(
        `${GOOD}      vault_word: open-sesame\n  microservices:\n    catalog_api:\n      resources:\n        catalog:\n          vault_word: per-service-sesame\n`,
      );
      const dry = await keelHere(['settings', 'push', file, '--service', SERVICE, '--dry-run']);
      expect(dry.stdout).toContain('~ svc/system/resources/catalog/vault_word: [redacted] -> [redacted]\n');
      expect(dry.stdout).toContain(
        '+ svc/system/microservices/catalog_api/resources/catalog/vault_word = [redacted]\n',
      );
      const pushed = await keelHere(['settings', 'push', file, '--service', SERVICE]);
      expect(pushed.code).toBe(0);
      const leaf = await keelHere([
        'settings',
        'get',
        'system.resources.catalog.vault_word',
        '--service',
        SERVICE,
      ]);
      expect(leaf).toMatchObject({ code: 0, stdout: '[redacted]\n' });
      const tree = await keelHere(['settings', 'get', 'system', '--service', SERVICE]);
      expect(parse(tree.stdout)).toMatchObject({
        resources: { catalog: { vault_word: '[redacted]', mode: 'fast' } },
        microservices: { catalog_api: { resources: { catalog: { vault_word: '[redacted]' } } } },
      });
      for (const output of [dry.stdout, pushed.stdout, leaf.stdout, tree.stdout])
        expect(output).not.toContain('sesame');
    });

    it('refuses a pushed file with a __proto__ key, naming it', async () => {
      const result = await keelHere([
        'settings',
        'push',
        fileWith('system:\n  __proto__:\n    polluted: yes\n'),
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Refused settings key "system.__proto__.polluted"');
    });
  });

  describe('push is all or nothing', () => {
    const pushEnv = (prefix: string): NodeJS.ProcessEnv => ({ ...env, KEEL_ETCD_PREFIX: prefix });
    const leaves = (count: number, from = 0) =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${from + index}`, from + index]));

    it('a push etcd refuses part way writes nothing: 110 keys then a value over its request limit', async () => {
      // Before: transactions of 100, so the first 100 keys were written and applied live.
      const file = fileWith(
        JSON.stringify({ system: { many: leaves(110), huge: 'x'.repeat(2 * 1024 * 1024) } }),
        'big.json',
      );
      const result = await keel(['settings', 'push', file], pushEnv('atomic1/'));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /etcd refused the push as one transaction \((request is too large|received message larger than max)/,
      );
      expect(result.stderr).toContain('nothing was written');
      expect(result.stdout).toBe('');
      expect(await client.getAll().prefix('atomic1/').keys()).toEqual([]);
    });

    it("over etcd's 128 operations per transaction: refused whole, naming the limit; --in-parts writes it all", async () => {
      // 128 operations are one transaction etcd takes, 129 one it refuses (measured on etcd 3.4).
      const file = fileWith(JSON.stringify({ system: { many: leaves(128) } }), 'many.json');
      const refused = await keel(['settings', 'push', file], {
        ...pushEnv('atomic2/'),
        KEEL_ETCD_CHECK_KEY: 'atomic2_ready',
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        "too many operations in txn request: 129 operations; etcd's --max-txn-ops is 128 by default",
      );
      expect(refused.stderr).toContain('--in-parts');
      expect(await client.getAll().prefix('atomic2/').keys()).toEqual([]);
      expect(await client.get('atomic2_ready').string()).toBeNull();

      const exact = await keel(['settings', 'push', file], {
        ...pushEnv('atomic2/'),
        KEEL_ETCD_CHECK_KEY: '',
      });
      expect(exact.code).toBe(0);
      expect(exact.stdout).toContain('pushed 128 keys');

      const more = fileWith(JSON.stringify({ system: { many: leaves(300) } }), 'more.json');
      const parts = await keel(['settings', 'push', more, '--in-parts'], {
        ...pushEnv('atomic2/'),
        KEEL_ETCD_CHECK_KEY: 'atomic2_ready',
      });
      expect(parts).toMatchObject({ code: 0, stderr: '' });
      expect(parts.stdout).toContain('pushed 172 keys');
      expect(parts.stdout).toContain('(128 unchanged)');
      expect(await client.getAll().prefix('atomic2/').keys()).toHaveLength(300);
      expect(await client.get('atomic2_ready').string()).toBe('true');
    });

    it('130,000 leaves: a clear refusal, no stack overflow, nothing written', async () => {
      const file = fileWith(JSON.stringify({ system: { wide: leaves(130_000) } }), 'wide.json');
      const result = await keel(['settings', 'push', file], pushEnv('atomic3/'));
      expect(result.stderr).not.toContain('Maximum call stack size exceeded');
      expect(result).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('etcd refused the push as one transaction'),
      });
      expect(await client.getAll().prefix('atomic3/').keys()).toEqual([]);
    });

    it('refuses a file key holding "/" or an empty key, naming it, before writing anything', async () => {
      const [slash, empty] = await Promise.all([
        keel(
          ['settings', 'push', fileWith('system:\n  ok: 1\n  resources:\n    "http/port": 80\n')],
          pushEnv('atomic4/'),
        ),
        keel(['settings', 'push', fileWith('system:\n  ok: 1\n  "":\n    x: 1\n')], pushEnv('atomic4/')),
      ]);
      expect(slash.code).toBe(1);
      expect(slash.stderr).toContain('Refused settings key "system.resources.http/port" (from file ');
      expect(slash.stderr).toContain('"http/port" holds "/"');
      expect(empty.code).toBe(1);
      expect(empty.stderr).toContain('Refused settings key "system."".x" (from file ');
      expect(await client.getAll().prefix('atomic4/').keys()).toEqual([]);
    });
  });

  it('names file, line and column of a syntax error in the pushed file, and exits 1', async () => {
    const result = await keel(['settings', 'push', fileWith('system:\n  a: [1,\n', 'broken.yaml')], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Syntax error in settings file .*broken\.yaml at line \d+, column \d+/);
  });
});
