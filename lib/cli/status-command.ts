import { stripVTControlCharacters } from 'node:util';
import type { HookTiming, Phase } from '../lifecycle/status';
import { START_PHASES } from '../lifecycle/status';
import { parseCommandArgs, type Command } from './command';
import { CliError, UsageError } from './io';

export const DEFAULT_STATUS_URL = 'http://127.0.0.1:5747';
const REQUEST_TIMEOUT_MS = 5000;
/** Far above any service's /status (a few KiB per resource); what a stranger serves is cut here. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const BAR_WIDTH = 40;
/** One mark per start phase; a phase too short for a cell still gets one. */
const PHASE_MARKS: Readonly<Record<string, string>> = { preStart: '░', start: '█', postStart: '▒' };

/** What `keel status` shows of a report server's `/status`: every field checked, none trusted. */
export interface StatusDocument {
  service: string;
  version?: string;
  revision?: string;
  uptime_s?: number;
  state: string;
  resources: StatusRow[];
}

export interface StatusRow {
  name: string;
  status: string;
  statusText?: string;
  phases: Partial<Record<Phase, HookTiming>>;
}

export const statusCommand: Command = {
  words: ['status'],
  synopsis: '[--url <url>] [--json]',
  summary: "print a running service's resources and its startup waterfall",
  details: `  --url <url>   the service's report server (default ${DEFAULT_STATUS_URL})
  --json        print the /status document as JSON, control characters escaped

Exit code 0 when the service is running with every resource STARTED, 1 otherwise or when it
cannot be reached. What the server sends is read up to 4 MiB, its text printed without terminal
control sequences, and a redirect followed only within the same origin.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, {
      url: { type: 'string', default: DEFAULT_STATUS_URL },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0)
      throw new UsageError(`status takes no arguments (got ${positionals.join(' ')})`);
    let url: string;
    try {
      url = new URL('/status', values.url).toString();
    } catch {
      throw new UsageError(`--url ${values.url} is not a URL`);
    }
    const { healthy, parsed } = await fetchStatus(url);
    const document = readDocument(url, parsed);
    io.out.write(
      values.json ? `${escapeControls(JSON.stringify(parsed, null, 2))}\n` : renderStatus(document),
    );
    return healthy ? 0 : 1;
  },
};

async function fetchStatus(url: string): Promise<{ healthy: boolean; parsed: unknown }> {
  const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const origin = new URL(url).origin;
  let response: Response;
  let at = url;
  for (let redirects = 0; ; redirects++) {
    try {
      response = await fetch(at, { signal, redirect: 'manual' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError('CLI_UNREACHABLE', `cannot reach ${at}: ${printable(reason)}`, { cause: error });
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) break;
    await response.body?.cancel();
    const next = new URL(location, at);
    // A report server never redirects elsewhere; one that does is not the service asked for.
    if (next.origin !== origin)
      throw new CliError(
        'CLI_UNREACHABLE',
        `${at} answered ${response.status}, a redirect to another origin (${printable(next.origin)}): not followed`,
      );
    if (redirects === MAX_REDIRECTS)
      throw new CliError('CLI_UNREACHABLE', `${url}: more than ${MAX_REDIRECTS} redirects`);
    at = next.toString();
  }
  const raw = await boundedText(at, response, signal);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new CliError('CLI_UNREACHABLE', `${at} answered ${response.status} without a status document`);
  }
  return { healthy: response.status === 200, parsed };
}

/** The body as text, refused past MAX_BODY_BYTES instead of read whole. */
async function boundedText(url: string, response: Response, signal: AbortSignal): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw new CliError(
          'CLI_UNREACHABLE',
          `${url} answered more than ${MAX_BODY_BYTES / 1024 / 1024} MiB: not a Keel /status document`,
        );
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    const reason = signal.aborted
      ? `no whole answer within ${REQUEST_TIMEOUT_MS} ms`
      : (error as Error).message;
    throw new CliError('CLI_UNREACHABLE', `${url}: ${printable(reason)}`, { cause: error });
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** The fields `keel status` shows, each of the type it is shown as; what is missing stays missing. */
function readDocument(url: string, parsed: unknown): StatusDocument {
  if (!isRecord(parsed) || !Array.isArray(parsed.resources))
    throw new CliError('CLI_UNREACHABLE', `${url}: not a Keel /status document (no resources list)`);
  return {
    service: text(parsed.service) ?? '(unnamed service)',
    state: text(parsed.state) ?? '(no state)',
    version: text(parsed.version),
    revision: text(parsed.revision),
    uptime_s: finite(parsed.uptime_s),
    resources: parsed.resources.map((row: unknown, index): StatusRow => {
      const fields = isRecord(row) ? row : {};
      const phases: Partial<Record<Phase, HookTiming>> = {};
      const given = isRecord(fields.phases) ? fields.phases : {};
      for (const phase of START_PHASES) {
        const timing = given[phase];
        if (!isRecord(timing)) continue;
        const offsetMs = finite(timing.offsetMs);
        const durationMs = finite(timing.durationMs);
        if (offsetMs !== undefined && durationMs !== undefined && offsetMs >= 0 && durationMs >= 0)
          phases[phase] = { offsetMs, durationMs };
      }
      return {
        name: text(fields.name) ?? `(resource #${index + 1})`,
        status: text(fields.status) ?? '(no status)',
        statusText: text(fields.statusText),
        phases,
      };
    }),
  };
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from the server as it may reach a terminal: escape sequences (window title, screen clear,
 * OSC 52 clipboard writes) removed, other control characters and bidirectional overrides shown as `?`.
 */
export function printable(value: string): string {
  return stripVTControlCharacters(value).replace(CONTROLS, '?');
}

/** JSON text with the control characters JSON.stringify leaves raw (C1, bidi overrides) escaped. */
function escapeControls(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function renderStatus(document: StatusDocument): string {
  const header = [
    document.service,
    document.state,
    document.version !== undefined ? `version ${document.version}` : undefined,
    document.revision !== undefined ? `revision ${document.revision.slice(0, 12)}` : undefined,
    document.uptime_s !== undefined ? `up ${document.uptime_s} s` : undefined,
  ]
    .filter((part) => part !== undefined)
    .map(printable);
  const rows = document.resources.map((row) => ({
    ...row,
    name: printable(row.name),
    status: printable(row.status),
    statusText: row.statusText === undefined ? undefined : printable(row.statusText),
  }));
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
function renderWaterfall(rows: readonly StatusRow[], nameWidth: number): string[] {
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
