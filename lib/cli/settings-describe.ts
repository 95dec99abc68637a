import { microservice } from '../container/decorators';
import { buildGraph } from '../container/graph';
import type { ResourceClass } from '../container/provider';
import { settingsScopes } from '../lifecycle/create';
import { Microservice } from '../lifecycle/microservice';
import { DEFAULT_RESOURCES } from '../resources/defaults';
import { describeSettings, type SettingDescription } from '../settings/describe';
import { SETTINGS_SCOPE } from '../settings/provider';
import { parseCommandArgs } from './command';
import { UsageError, type CliIo } from './io';
import { inspectService } from './load-service';

export const DESCRIBE_FORMATS = ['table', 'json', 'markdown'] as const;
type DescribeFormat = (typeof DESCRIBE_FORMATS)[number];

/** What every service reads: Keel's own scopes and those of the resources it adds to each graph. */
@microservice({ name: 'any_service', resources: {} })
class AnyService extends Microservice {}

interface ServiceSettings {
  /** The service's name; null for the settings every service has. */
  service: string | null;
  settings: SettingDescription[];
}

/** `keel settings describe [--service <module>]... [--format table|json|markdown] [--json]`. */
export async function settingsDescribe(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    service: { type: 'string', multiple: true },
    format: { type: 'string', default: 'table' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new UsageError(`settings describe takes no arguments; give the module with --service`);
  const format = (values.json === true ? 'json' : values.format) as DescribeFormat;
  if (!DESCRIBE_FORMATS.includes(format))
    throw new UsageError(`unknown format ${format} (${DESCRIBE_FORMATS.join(', ')})`);
  const modules = values.service ?? [];
  const described =
    modules.length === 0
      ? [{ service: null, settings: settingsOf(AnyService) }]
      : modules.map((module) => {
          const Service = inspectService(module, process.cwd());
          return { service: serviceName(Service), settings: settingsOf(Service) };
        });
  io.out.write(render(described, format));
  return 0;
}

function settingsOf(Service: ResourceClass<Microservice>): SettingDescription[] {
  const graph = buildGraph({ service: Service, defaults: DEFAULT_RESOURCES });
  return describeSettings([...settingsScopes(graph), SETTINGS_SCOPE]);
}

function serviceName(Service: ResourceClass<Microservice>): string {
  return buildGraph({ service: Service, defaults: DEFAULT_RESOURCES }).serviceName;
}

function render(described: readonly ServiceSettings[], format: DescribeFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(described, null, 2)}\n`;
    case 'markdown':
      return described.map(asMarkdown).join('\n');
    case 'table':
      return described.map(asTable).join('\n');
  }
}

function heading({ service, settings }: ServiceSettings): string {
  const whose = service === null ? 'every service (give --service for its resources)' : `service ${service}`;
  const override = `system.microservices.${service ?? '<service>'}.<path> overrides system.<path> for it`;
  return `Settings of ${whose}: ${settings.length} keys; ${override}`;
}

/** JSON, but a sensitive default as the bare `[redacted]` that stands for it. */
const shownDefault = (setting: SettingDescription): string =>
  !('default' in setting)
    ? '(none)'
    : setting.sensitive
      ? String(setting.default)
      : JSON.stringify(setting.default);

function flags(setting: SettingDescription): string {
  return [setting.applies, setting.sensitive && 'sensitive', setting.nullable && 'nullable']
    .filter(Boolean)
    .join(', ');
}

/** One row per key, its doc on the line below. */
function asTable(described: ServiceSettings): string {
  const rows = described.settings.map((setting) => [
    setting.key,
    setting.type,
    shownDefault(setting),
    flags(setting),
  ]);
  const header = ['KEY', 'TYPE', 'DEFAULT', 'APPLIES'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  const body = rows.flatMap((row, index) => {
    const { doc } = described.settings[index];
    return doc === undefined ? [line(row)] : [line(row), `    ${doc}`];
  });
  return [heading(described), '', line(header), ...body, ''].join('\n');
}

function asMarkdown(described: ServiceSettings): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = described.settings.map(
    (setting) =>
      `| \`${setting.key}\` | ${cell(setting.type)} | ${'default' in setting ? `\`${cell(shownDefault(setting))}\`` : '(none)'} | ${flags(setting)} | ${cell(setting.doc ?? '')} |`,
  );
  return [
    `${heading(described)}`,
    '',
    '| key | type | default | applies | doc |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
