import type { ServiceProcess } from '../../support/process';

/** Env for a child service: every server of the test on a free port of 127.0.0.1. */
export function freePorts(...servers: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0' };
  for (const name of servers) {
    env[`KEEL__SYSTEM__RESOURCES__${name.toUpperCase()}__PORT`] = '0';
    env[`KEEL__SYSTEM__RESOURCES__${name.toUpperCase()}__HOST`] = '127.0.0.1';
  }
  return env;
}

/** The port an HTTP server of the child logged it listens on. */
export async function listeningPort(service: ServiceProcess, server = 'http'): Promise<number> {
  const pattern = new RegExp(`http server '${server}' listening on http://127\\.0\\.0\\.1:(\\d+)`);
  return Number(pattern.exec(await service.waitFor(pattern))![1]);
}

export async function reportServerPort(service: ServiceProcess): Promise<number> {
  const pattern = /report server on http:\/\/127\.0\.0\.1:(\d+)/;
  return Number(pattern.exec(await service.waitFor(pattern))![1]);
}
