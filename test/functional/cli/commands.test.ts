import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { COMMANDS } from '../../../lib/cli/commands';
import { PROJECT_ROOT } from '../../support/process';
import { FIXTURES, keel } from './cli';

jest.setTimeout(120_000);

const fixture = (name: string) => path.join(FIXTURES, name);

describe('keel --version, help and wrong calls', () => {
  it('--version prints the package version; help and no arguments list every command, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
    const [printed, help, bare] = await Promise.all([keel(['--version']), keel(['help']), keel([])]);
    expect(printed).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    for (const result of [help, bare]) {
      expect(result.code).toBe(0);
      for (const command of COMMANDS) expect(result.stdout).toContain(`keel ${command.words.join(' ')} `);
    }
  });

  it("<command> --help prints that command's usage and options for every command, exit 0", async () => {
    const results = await Promise.all(COMMANDS.map((command) => keel([...command.words, '--help'])));
    results.forEach((result, index) => {
      const { words } = COMMANDS[index];
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^Usage: keel ${words.join(' ')}`));
    });
    const [settings, helpRun] = await Promise.all([keel(['settings', '--help']), keel(['help', 'run'])]);
    expect(settings.stdout).toMatch(/keel settings push[\s\S]*keel settings get[\s\S]*keel settings watch/);
    expect(helpRun.stdout).toMatch(/^Usage: keel run <file> \[--watch\]/);
    expect(helpRun.stdout).toContain('--watch');
  });

  it('a wrong call exits 2 with the usage on stderr', async () => {
    const calls = [
      ['deploy'],
      ['settings', 'frobnicate'],
      ['run'],
      ['graph', fixture('service.ts'), '--format', 'png'],
      ['status', '--bogus'],
      ['new'],
      ['run', 'a.ts', 'b.ts'],
    ];
    const results = await Promise.all(calls.map((args) => keel(args)));
    results.forEach((result, index) => {
      expect({ args: calls[index], code: result.code, stdout: result.stdout }).toEqual({
        args: calls[index],
        code: 2,
        stdout: '',
      });
      expect(result.stderr).toMatch(/^keel: .+\n\nUsage/);
    });
    expect(results[0].stderr).toContain('unknown command: deploy');
    expect(results[3].stderr).toContain('unknown format png (tree, mermaid, dot, json)');
    expect(results[4].stderr).toContain("Unknown option '--bogus'");
  });
});

describe('keel graph', () => {
  it('prints the tree by default, and mermaid, dot and json on request, without constructing anything', async () => {
    const file = fixture('service.ts');
    const [tree, mermaid, dot, json] = await Promise.all([
      keel(['graph', file], { CLI_FIXTURE_FAIL: '1' }),
      keel(['graph', file, '--format', 'mermaid']),
      keel(['graph', file, '--format', 'dot']),
      keel(['graph', file, '--format', 'json']),
    ]);
    // CLI_FIXTURE_FAIL would make the marker's start throw: nothing started, nothing logged.
    expect(tree).toMatchObject({ code: 0, stderr: '' });
    expect(tree.stdout).toBe(
      [
        'cli_fixture (CliFixture)',
        '├── marker (Marker)',
        '├── status (StatusResource)',
        '└── report_server (ReportServerResource)',
        '    └── metrics (MetricsResource)',
        '',
      ].join('\n'),
    );
    expect(mermaid.stdout).toMatch(/^graph TD\n/);
    expect(mermaid.stdout).toContain('n_report_server --> n_metrics');
    expect(dot.stdout).toMatch(/^digraph "cli_fixture" \{/);
    expect(dot.stdout).toContain('"report_server" -> "metrics";');
    const document = JSON.parse(json.stdout);
    expect(document.service).toBe('cli_fixture');
    expect(document.nodes).toContainEqual({
      name: 'report_server',
      kind: 'resource',
      provides: 'ReportServerResource',
      settings: 'system.resources.report_server',
      dependsOn: ['metrics'],
    });
  });

  it('on a file that calls run() (a main.ts) draws the service it runs and starts nothing', async () => {
    const results = await Promise.all(
      ['main-calls-run.ts', 'exports-and-runs.ts'].map((file) =>
        keel(['graph', fixture(file)], { CLI_FIXTURE_FAIL: '1' }),
      ),
    );
    for (const result of results) {
      // Started, the marker would log and fail (CLI_FIXTURE_FAIL), and the report server would hold the process.
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^cli_fixture \(CliFixture\)\n├── marker \(Marker\)\n/);
    }
  });

  it('a graph error prints with its chain, exit 1; a file with no microservice says what to export', async () => {
    const [broken, none, missing] = await Promise.all([
      keel(['graph', fixture('broken.ts')]),
      keel(['graph', fixture('no-service.ts')]),
      keel(['graph', fixture('nothing-here.ts')]),
    ]);
    expect(broken).toMatchObject({ code: 1, stdout: '' });
    expect(broken.stderr).toMatch(
      /^keel: broken → repository → Pool: no provider for Pool, needed by constructor parameter #0 of Repository/,
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      'no-service.ts exports no microservice: export the class decorated with @microservice',
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nothing-here.ts: no such file');
  });
});

describe('keel new', () => {
  it('writes the project; refuses a non-empty folder and a name that cannot be a metric prefix', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'keel-new-'));
    const occupied = path.join(root, 'occupied');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'notes.txt'), 'mine');
    const [made, refused, badName, badFolderName] = await Promise.all([
      keel(['new', path.join(root, 'billing-api'), '--keel', '1.2.3']),
      keel(['new', occupied]),
      keel(['new', path.join(root, 'x'), '--name', 'Billing-API']),
      keel(['new', path.join(root, '9lives')]),
    ]);
    expect(made.code).toBe(0);
    expect(made.stdout).toContain('created billing_api');
    const manifest = JSON.parse(readFileSync(path.join(root, 'billing-api', 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'billing-api', dependencies: { keel: '1.2.3' } });
    expect(Object.keys(manifest.scripts).sort()).toEqual(['build', 'dev', 'start', 'test']);
    const service = readFileSync(path.join(root, 'billing-api', 'src', 'service.ts'), 'utf8');
    expect(service).toContain("name: 'billing_api'");
    expect(service).toContain('export class BillingApiService extends Microservice');
    const dockerfile = readFileSync(path.join(root, 'billing-api', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/FROM .* AS build[\s\S]*USER node[\s\S]*HEALTHCHECK[\s\S]*\/health\/ready/);

    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/occupied is not empty/);
    expect(readFileSync(path.join(occupied, 'notes.txt'), 'utf8')).toBe('mine');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('invalid service name "Billing-API"');
    expect(badFolderName.code).toBe(1);
    expect(badFolderName.stderr).toContain(
      `invalid service name "9lives" (from the folder's name; choose one with --name)`,
    );
  });

  it('refuses constructor and prototype, which settings refuse as keys; quotes the folder in its next: lines', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'keel-new-'));
    const [constructorName, prototypeFolder, spaced, dashed] = await Promise.all([
      keel(['new', path.join(root, 'a'), '--name', 'constructor', '--keel', '1.2.3']),
      keel(['new', path.join(root, 'prototype'), '--keel', '1.2.3']),
      keel(['new', path.join(root, "bob's shop"), '--name', 'shop', '--keel', '1.2.3']),
      keel(['new', path.join(root, '-x'), '--name', 'x', '--keel', '1.2.3']),
    ]);
    expect(constructorName).toMatchObject({ code: 1, stdout: '' });
    expect(constructorName.stderr).toContain(
      'invalid service name "constructor": it names the prototype machinery of every object, and the settings key system.microservices.constructor would be refused',
    );
    expect(prototypeFolder.code).toBe(1);
    expect(prototypeFolder.stderr).toContain(`invalid service name "prototype" (from the folder's name`);
    expect(spaced.code).toBe(0);
    const quoted = `'${path.relative(PROJECT_ROOT, path.join(root, "bob'\\''s shop"))}'`;
    expect(spaced.stdout).toContain(`\nnext:\n  cd ${quoted}\n`);
    expect(dashed.code).toBe(0);
    expect(dashed.stdout).toMatch(/\n {2}cd [^\n]*\/-x\n/);
  });

  it('without --keel from a checkout, says the dependency resolves only from the registry and what to do instead', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'keel-new-'));
    const made = await keel(['new', path.join(root, 'plain')]);
    expect(made.code).toBe(0);
    const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(path.join(root, 'plain', 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({ keel: `^${version}` });
    expect(made.stderr).toContain(
      `keel new: this keel runs from ${PROJECT_ROOT}, not from a package npm installed, so package.json asks for keel@^${version} from the registry`,
    );
    expect(made.stderr).toContain('npm pack; then keel new with --keel <the .tgz it wrote>');
  });
});
