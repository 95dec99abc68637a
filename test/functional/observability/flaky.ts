import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { killAll, spawnService, type ServiceProcess } from '../../support/process';
import { reportServerPort } from './report-client';

const FIXTURE = 'test/functional/observability/fixtures/flaky-link.ts';

/** The fixture running in a child process, and the files that steer it. */
export interface FlakyProcess {
  service: ServiceProcess;
  /** Makes `link` report FAILED (or throw from status()) from now on. */
  fail(): void;
  /** Cures `link` without a restart. */
  heal(): void;
  /** Lets a held `link` stop finish. */
  release(): void;
}

/** The fixture once started, with its report server's port. */
export interface Flaky extends FlakyProcess {
  port: number;
}

const started: ServiceProcess[] = [];
const directories: string[] = [];

/** For `afterEach`: kills what a test left running and removes its trigger files. */
export function stopFlakies(): void {
  killAll(started.splice(0));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
}

export function spawnFlaky(env: NodeJS.ProcessEnv): FlakyProcess {
  const directory = mkdtempSync(join(tmpdir(), 'keel-flaky-'));
  directories.push(directory);
  const service = spawnService(FIXTURE, { FIXTURE_DIR: directory, ...env });
  started.push(service);
  return {
    service,
    fail: () => writeFileSync(join(directory, 'fail'), ''),
    heal: () => rmSync(join(directory, 'fail')),
    release: () => writeFileSync(join(directory, 'release'), ''),
  };
}

export async function startFlaky(env: NodeJS.ProcessEnv): Promise<Flaky> {
  const flaky = spawnFlaky(env);
  const port = await reportServerPort(flaky.service);
  await flaky.service.waitFor(/flaky ready in/, 60_000);
  return { ...flaky, port };
}

/** The lines the fixture's hooks printed after `from`, in order, e.g. `link stopped`. */
export function hookLines(output: string, from: number): string[] {
  return [...output.slice(from).matchAll(/^journal: (\w+ \w+)$/gm)].map((match) => match[1]);
}
