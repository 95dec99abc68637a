import {
  createMicroservice,
  Discovery,
  HttpClientResource,
  Microservice,
  microservice,
  type App,
} from '../../../lib';
import { quietLog, until } from '../../support/async';
import { spawnService, type ServiceProcess } from '../../support/process';

export const INSTANCE = 'samples/registry/instance.ts';
export const TTL_S = 2;

export interface Instance {
  process: ServiceProcess;
  port: number;
  reportPort: number;
}

/** One instance of the sample, its HTTP and report servers on free ports, registered with a short TTL. */
export async function startInstance(hosts: string, env: NodeJS.ProcessEnv = {}): Promise<Instance> {
  const process = spawnService(INSTANCE, {
    KEEL_ETCD_HOSTS: hosts,
    KEEL__SYSTEM__RESOURCES__REGISTRY__TTL_S: String(TTL_S),
    KEEL__SYSTEM__RESOURCES__HTTP__PORT: '0',
    KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
    ...env,
  });
  const output = await process.waitFor(/registered as keel-registry\/greeter\//, 30_000);
  return {
    process,
    port: Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]),
    reportPort: Number(/report server on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]),
  };
}

@microservice({ name: 'greeter_caller', resources: { discovery: Discovery, greeter: HttpClientResource } })
class Caller extends Microservice {}

/** An in-process client of `greeter` through Discovery, given the etcd hosts in its environment only. */
export async function startCaller(hosts: string, log = quietLog()): Promise<App> {
  const app = await createMicroservice(Caller, {
    env: { ...process.env, KEEL_ETCD_HOSTS: hosts },
    log,
    settings: {
      system: {
        resources: {
          report_server: { port: 0 },
          greeter: { service: 'greeter', timeout_ms: 2000, retries: 2, backoff_ms: 5, max_backoff_ms: 20 },
        },
      },
    },
  });
  await app.start();
  return app;
}

export async function waitForInstances(
  discovery: Discovery,
  count: number,
  timeoutMs = 10_000,
): Promise<void> {
  await until(
    () => discovery.instances('greeter').length === count,
    timeoutMs,
    `${count} greeter instance(s)`,
  );
}
