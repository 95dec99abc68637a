import type { ResourceReport, ServiceState } from '../lifecycle/status';
import { START_PHASES } from '../lifecycle/status';
import { parseCommandArgs, type Command } from './command';
import { CliError, UsageError } from './io';

export const DEFAULT_STATUS_URL = 'http://127.0.0.1:5747';
const REQUEST_TIMEOUT_MS = 5000;
const BAR_WIDTH = 40;
/** One mark per start phase; a phase too short for a cell still gets one. */
const PHASE_MARKS: Readonly<Record<string, string>> = { preStart: '░', start: '█', postStart: '▒' };

/** What the report server's `/status` answers. */
export interface StatusDocument {
  service: string;
  version?: string;
  revision?: string;
  uptime_s?: number;
  state: ServiceState;
  resources: ResourceReport[];
}

export const statusCommand: Command = {
  words: ['status'],
  synopsis: '[--url <url>] [--json]',
  summary: "print a running service's resources and its startup waterfall",
  details: `  --url <url>   the service's report server (default ${DEFAULT_STATUS_URL})
  --json        print the /status document as it came

Exit code 0 when the service is running with every resource STARTED, 1 otherwise or when it
cannot be reached.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, {
      url: { type: 'string', default: DEFAULT_STATUS_URL },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0)
      throw new UsageError(`status takes no arguments (got ${positionals.join(' ')})`);
    const url = new URL('/status', values.url).toString();
    const { healthy, document, raw } = await fetchStatus(url);
    io.out.write(values.json ? `${raw.trimEnd()}\n` : renderStatus(document));
    return healthy ? 0 : 1;
  },
};

async function fetchStatus(
  url: string,
): Promise<{ healthy: boolean; document: StatusDocument; raw: string }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new CliError('CLI_UNREACHABLE', `cannot reach ${url}: ${reason}`, { cause: error });
  }
  const raw = await response.text();
  let document: StatusDocument;
  try {
    document = JSON.parse(raw) as StatusDocument;
  } catch {
    throw new CliError('CLI_UNREACHABLE', `${url} answered ${response.status} without a status document`);
  }
  if (!Array.isArray(document.resources)) {
    throw new CliError('CLI_UNREACHABLE', `${url} answered ${response.status}: not a Keel /status document`);
  }
  return { healthy: response.status === 200, document, raw };
}

export function renderStatus(document: StatusDocument): string {
  const header = [
    document.service,
    document.state,
    document.version !== undefined ? `version ${document.version}` : undefined,
    document.revision !== undefined ? `revision ${document.revision.slice(0, 12)}` : undefined,
    document.uptime_s !== undefined ? `up ${document.uptime_s} s` : undefined,
  ].filter((part) => part !== undefined);
  const rows = document.resources;
  const nameWidth = Math.max(8, ...rows.map((row) => row.name.length));
  const statusWidth = Math.max(6, ...rows.map((row) => row.status.length));
  const table = [
    `${'RESOURCE'.padEnd(nameWidth)}  ${'STATUS'.padEnd(statusWidth)}  TEXT`,
    ...rows.map((row) =>
      `${row.name.padEnd(nameWidth)}  ${row.status.padEnd(statusWidth)}  ${row.statusText ?? ''}`.trimEnd(),
    ),
  ];
  return [header.join('  '), '', ...table, '', ...renderWaterfall(rows, nameWidth), ''].join('\n');
}

/** Each resource's start phases on one time axis: where each began and how long it took. */
function renderWaterfall(rows: readonly ResourceReport[], nameWidth: number): string[] {
  const end = Math.max(0, ...rows.flatMap((row) => START_PHASES.map((phase) => phaseEnd(row.phases[phase]))));
  if (end === 0) return ['startup waterfall: no start timings yet'];
  const cell = (ms: number) => Math.min(BAR_WIDTH - 1, Math.floor((ms / end) * BAR_WIDTH));
  const lines = [
    `startup waterfall, ${formatMs(end)} ms  (${START_PHASES.map((phase) => `${PHASE_MARKS[phase]} ${phase}`).join('  ')})`,
  ];
  for (const row of rows) {
    const bar = Array<string>(BAR_WIDTH).fill(' ');
    const timings: string[] = [];
    for (const phase of START_PHASES) {
      const timing = row.phases[phase];
      if (timing === undefined) continue;
      const from = cell(timing.offsetMs);
      const to = Math.max(from, cell(phaseEnd(timing)) - 1);
      for (let index = from; index <= to; index++) bar[index] = PHASE_MARKS[phase];
      timings.push(`${phase} ${formatMs(timing.offsetMs)}+${formatMs(timing.durationMs)}`);
    }
    lines.push(`${row.name.padEnd(nameWidth)}  |${bar.join('')}|  ${timings.join('  ')}`.trimEnd());
  }
  return lines;
}

function phaseEnd(timing: { offsetMs: number; durationMs: number } | undefined): number {
  return timing === undefined ? 0 : timing.offsetMs + timing.durationMs;
}

function formatMs(ms: number): string {
  return ms >= 100 ? String(Math.round(ms)) : String(Math.round(ms * 10) / 10);
}
