import { resourceOptionsOf } from '../container/decorators';
import { buildGraph, type Override, type ResourceGraph } from '../container/graph';
import type { ResourceClass } from '../container/provider';
import type { Logging } from '../logging';
import { LOG_LEVELS, type LevelName } from '../logging/levels';
import { DEFAULT_RESOURCES } from '../resources/defaults';
import { SettingsProvider } from '../settings';
import type { SettingsScope } from '../settings/types';
import { TRACING_SETTINGS_PATH, tracingSchema } from '../tracing/settings';
import { App } from './app';
import type { Log } from './log';
import {
  fixedOutput,
  loggingOutput,
  loggingScope,
  provisionalOutput,
  type LogOutput,
} from '../logging/output';
import type { Microservice } from './microservice';
import {
  deployNameOf,
  LIFECYCLE_SETTINGS_PATH,
  lifecycleSchema,
  resourceScopeSchema,
  resourceSettingsPath,
} from './settings';
import { checkTaskDeclarations, fleetSchedules } from './tasks';
import { systemClock, type Clock } from './clock';
import { LifecycleError } from './errors';
import { etcdOptionsFromEnv } from '../settings/etcd-options';

export interface CreateOptions {
  /** Settings given in code: the highest layer, above file, etcd and environment. */
  settings?: Record<string, unknown>;
  /** Records go here instead of the streams of `system.logging` (tests that check what was logged). */
  log?: Log;
  /** A Logging the caller made and will close (`run` makes one so that it can log until the exit). */
  logging?: Logging;
  /** Environment read for settings layers (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where `config/` is looked up (defaults to the working directory). */
  cwd?: string;
  /** Swapped providers; the public way in is `Test.createMicroservice(...).overrideResource(...)`. */
  overrides?: readonly Override[];
  /** Gives up the wait for etcd at once; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The clock `@cron` schedules read (a test's `ManualClock`); the system's unless given. */
  clock?: Clock;
}

/**
 * Builds the graph, loads and validates settings, and constructs every resource, in that order:
 * a missing provider, a cycle or a bad setting is reported before any constructor runs.
 */
export async function createMicroservice(
  Service: ResourceClass<Microservice>,
  options: CreateOptions = {},
): Promise<App> {
  const graph = buildGraph({ service: Service, overrides: options.overrides, defaults: DEFAULT_RESOURCES });
  checkTaskDeclarations(graph);
  checkFleetSchedules(graph, options.env ?? process.env);
  const output = outputFor(graph.serviceName, options);
  const log = output.root;
  const settings = await SettingsProvider.load({
    serviceName: graph.serviceName,
    scopes: settingsScopes(graph),
    inline: options.settings,
    env: options.env,
    cwd: options.cwd,
    warn: (message) => log.warn({}, message),
    info: (message) => log.info({}, message),
    onRead: (tree) => output.followRead(tree),
    onUpdateRejected: (error) => log.error({ err: error }, error.message),
    signal: options.signal,
  });
  try {
    await output.configure(settings, deployNameOf(settings) ?? '');
    return new App(graph, settings, output, options.clock ?? systemClock);
  } catch (error) {
    await settings.close();
    await output.close();
    throw error;
  }
}

/** `fleet: 'one'` schedules claim their ticks in etcd: without it they cannot run, and the start would not say so. */
function checkFleetSchedules(graph: ResourceGraph, env: NodeJS.ProcessEnv): void {
  const fleet = fleetSchedules(graph);
  if (fleet.length === 0 || etcdOptionsFromEnv(env) !== undefined) return;
  throw new LifecycleError(
    'CRON_FLEET_NO_ETCD',
    `${graph.serviceName}: @cron schedule(s) ${fleet.join(', ')} have fleet: 'one', which claims each tick in etcd, but KEEL_ETCD_HOSTS is not set`,
  );
}

function outputFor(serviceName: string, options: CreateOptions): LogOutput {
  if (options.log !== undefined) return fixedOutput(options.log);
  if (options.logging !== undefined) return loggingOutput(options.logging, false);
  return provisionalOutput(serviceName, earlyLogLevel(options));
}

/**
 * `system.logging.level` from the settings given in code, else from the environment: both are known
 * before any layer is read, so the settings load's own records obey it too.
 */
function earlyLogLevel(options: CreateOptions): LevelName | undefined {
  const system = options.settings?.system as { logging?: { level?: unknown } } | undefined;
  const level = system?.logging?.level ?? (options.env ?? process.env).KEEL__SYSTEM__LOGGING__LEVEL;
  return typeof level === 'string' && (LOG_LEVELS as readonly string[]).includes(level)
    ? (level as LevelName)
    : undefined;
}

/** The scopes a service validates: Keel's own and one per resource; also what `keel settings push --service` checks. */
export function settingsScopes(graph: ResourceGraph): SettingsScope[] {
  const scopes: SettingsScope[] = [
    { path: LIFECYCLE_SETTINGS_PATH, owner: 'keel', schema: lifecycleSchema },
    loggingScope,
    { path: TRACING_SETTINGS_PATH, owner: 'keel', schema: tracingSchema },
  ];
  for (const node of graph.nodes) {
    if (node.kind !== 'resource') continue;
    // The rules go with the schema: a swapped-in value or factory brings neither.
    const rules =
      node.settings !== undefined && 'useClass' in node.provision
        ? resourceOptionsOf(node.provision.useClass)?.settingsRules
        : undefined;
    scopes.push({
      path: resourceSettingsPath(node.name),
      owner: node.name,
      schema: resourceScopeSchema(node.settings),
      rules,
    });
  }
  return scopes;
}
