import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildGraph } from '../../../lib/container/graph';
import { settingsScopes } from '../../../lib/lifecycle/create';
import { DEFAULT_RESOURCES } from '../../../lib/resources/defaults';
import { compileSchema } from '../../../lib/settings/schema';
import { SETTINGS_SCOPE } from '../../../lib/settings/provider';
import { AnnouncerService } from '../../../samples/settings-etcd/service';
import { PROJECT_ROOT } from '../../support/process';
import { keel } from './cli';

jest.setTimeout(120_000);

const SAMPLE = 'samples/settings-etcd/service.ts';

/** Every leaf path the sample's scopes declare, read from the compiled schemas themselves. */
function declaredKeys(): string[] {
  const graph = buildGraph({ service: AnnouncerService, defaults: DEFAULT_RESOURCES });
  return [...settingsScopes(graph), SETTINGS_SCOPE].flatMap((scope) =>
    scope.schema === undefined
      ? []
      : compileSchema(scope.schema, scope.path).leaves.map((leaf) => `${scope.path}.${leaf.path.join('.')}`),
  );
}

describe('keel settings describe', () => {
  it("lists every key of the sample's schemas with type, default, live or restart, sensitive defaults masked", async () => {
    const [json, table, markdown, fromMain] = await Promise.all([
      keel(['settings', 'describe', '--service', SAMPLE, '--json']),
      keel(['settings', 'describe', '--service', SAMPLE]),
      keel(['settings', 'describe', '--service', SAMPLE, '--format', 'markdown']),
      keel(['settings', 'describe', '--service', 'samples/settings-etcd/main.ts', '--json']),
    ]);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const [described] = JSON.parse(json.stdout);
    expect(described.service).toBe('settings_etcd');
    const keys = described.settings.map((setting: { key: string }) => setting.key);
    expect(keys).toEqual(declaredKeys());
    expect(keys).toEqual(
      expect.arrayContaining(['system.lifecycle.stop_timeout_ms', 'system.settings.unknown_keys']),
    );
    const byKey = new Map(described.settings.map((setting: { key: string }) => [setting.key, setting]));
    expect(byKey.get('system.resources.announcer.api_token')).toEqual({
      key: 'system.resources.announcer.api_token',
      owner: 'announcer',
      type: 'string',
      default: '[redacted]',
      nullable: false,
      sensitive: true,
      applies: 'restart',
      doc: 'A secret: shown as [redacted] in logs and errors',
    });
    expect(byKey.get('system.resources.announcer.volume')).toMatchObject({
      type: 'one of ["quiet","normal","loud"]',
      default: 'normal',
      applies: 'live',
      sensitive: false,
    });
    expect(byKey.get('system.logging.level')).toMatchObject({ owner: 'keel', applies: 'live' });
    expect(byKey.get('system.lifecycle.stop_timeout_ms')).toMatchObject({
      default: 30000,
      applies: 'restart',
    });
    for (const output of [json.stdout, table.stdout, markdown.stdout])
      expect(output).not.toContain('dev-token');

    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Settings of service settings_etcd: \d+ keys; /);
    expect(table.stdout).toMatch(
      /\nsystem\.resources\.announcer\.api_token +string +\[redacted\] +restart, sensitive\n/,
    );
    expect(markdown.stdout).toContain(
      '| `system.resources.announcer.volume` | one of ["quiet","normal","loud"] | `"normal"` | live | How loud |',
    );
    // A main.ts that calls run() is read, not started.
    expect(fromMain).toEqual(json);
  });

  it('without --service lists the keys every service has; a wrong format is a usage error', async () => {
    const [every, wrong] = await Promise.all([
      keel(['settings', 'describe', '--json']),
      keel(['settings', 'describe', '--format', 'yaml']),
    ]);
    expect(every.code).toBe(0);
    const [described] = JSON.parse(every.stdout);
    expect(described.service).toBeNull();
    const keys = described.settings.map((setting: { key: string }) => setting.key);
    expect(keys).toContain('system.resources.report_server.port');
    expect(keys).not.toContain('system.resources.announcer.greeting');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown format yaml (table, json, markdown)');
  });

  it("README's example shows the announcer's rows as the command prints them", async () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const start = `<!-- settings-describe: ${SAMPLE}, the announcer's rows -->`;
    const from = readme.indexOf(start);
    expect(from).toBeGreaterThan(-1);
    const block = readme.slice(from + start.length, readme.indexOf('<!-- /settings-describe -->', from));
    // Cells compared trimmed: prettier may pad a markdown table's columns.
    const cells = (row: string) => row.split(' | ').map((cell) => cell.trim());
    const shown = block
      .split('\n')
      .filter((line) => line.includes('announcer'))
      .map(cells);
    const result = await keel(['settings', 'describe', '--service', SAMPLE, '--format', 'markdown']);
    const printed = result.stdout
      .split('\n')
      .filter((line) => line.includes('announcer'))
      .map(cells);
    expect(shown).toEqual(printed);
  });
});
