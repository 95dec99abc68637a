import { inspect } from 'node:util';

import type { ServiceProcess } from '../../support/process';

const REPORT_SERVER_LINE = /report server on http:\/\/127\.0\.0\.1:(\d+)/;

/** The port a child service's report server bound, from the line it logs once listening. */
export async function reportServerPort(service: ServiceProcess): Promise<number> {
  const output = await service.waitFor(REPORT_SERVER_LINE, 60_000);
  return Number(REPORT_SERVER_LINE.exec(output)![1]);
}

export interface Reply {
  status: number;
  type: string | null;
  text: string;
}

export async function get(port: number, path: string): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

export interface StatusRow {
  name: string;
  status: string;
  statusText?: string;
}

/** `GET /status`, with the rows by resource name. */
export async function serviceStatus(
  port: number,
): Promise<{ status: number; type: string | null; rows: Map<string, StatusRow> }> {
  const reply = await get(port, '/status');
  const { resources } = JSON.parse(reply.text) as { resources: StatusRow[] };
  return { status: reply.status, type: reply.type, rows: new Map(resources.map((row) => [row.name, row])) };
}

/** Polls `GET /status` until it answers with `httpStatus`. */
export function statusWhen(port: number, httpStatus: number): ReturnType<typeof serviceStatus> {
  return eventually(
    () => serviceStatus(port),
    (reply) => reply.status === httpStatus,
  );
}

/** Polls `probe` until `accept` takes its value; for waiting on a child process without sleeping blind. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`not accepted within ${timeoutMs} ms; last: ${inspect(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe();
  }
  return last;
}
