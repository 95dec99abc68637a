import { resourceOptionsOf } from '../container/decorators';
import type { ResourceGraph } from '../container/graph';
import type { SettingsProvider } from '../settings';
import { SettingsError } from '../settings/errors';
import { KEEL_FORMATS } from '../settings/formats';
import type { SettingsSchema } from '../settings/types';

/** Keel's own lifecycle settings, under `system.lifecycle`. */
export const lifecycleSchema = {
  hook_timeout_ms: {
    doc: 'Longest a single resource hook (preStart, start, ...) may take before the phase fails',
    format: 'duration',
    default: 60_000,
  },
  stop_timeout_ms: {
    doc: 'Longest a graceful stop (or a start cancelled by a signal) may take before `run` forces the process out with exit code 3',
    format: 'duration',
    default: 30_000,
  },
  task_stop_share: {
    doc:
      'Share of stop_timeout_ms the tasks get to end once aborted (more than 0, less than 1); ' +
      'the resources then stop whether or not every task has ended',
    format: function share(value: unknown): void {
      if (typeof value !== 'number' || !(value > 0 && value < 1))
        throw new Error(`must be a number between 0 and 1 (both excluded), got ${JSON.stringify(value)}`);
    },
    default: 0.5,
  },
  cron_claim_ttl_s: {
    doc: "How long the etcd claim of a fleet: 'one' cron tick is kept; longer than the clock skew between instances, so a lagging one still finds the tick taken",
    format: 'nat',
    default: 300,
  },
};

export const LIFECYCLE_SETTINGS_PATH = 'system.lifecycle';

export interface LifecycleSettings {
  hook_timeout_ms: number;
  stop_timeout_ms: number;
  task_stop_share: number;
  cron_claim_ttl_s: number;
}

export function resourceSettingsPath(name: string): string {
  return `system.resources.${name}`;
}

/** `system.deploy_name` when it is set to a non-empty string. */
export function deployNameOf(settings: SettingsProvider): string | undefined {
  const deployName = settings.get('system.deploy_name');
  return typeof deployName === 'string' && deployName !== '' ? deployName : undefined;
}

/** What Keel reads in every resource's scope, `system.resources.<name>`, beside the resource's own keys. */
const resourceLifecycleSchema = {
  hook_timeout_ms: {
    doc: "Longest each of this resource's hooks may take, over system.lifecycle.hook_timeout_ms and @resource({ hookTimeoutMs })",
    format: 'duration',
    default: undefined,
  },
};

const withLifecycleKeys = new WeakMap<SettingsSchema, SettingsSchema>();

/**
 * A resource's schema with Keel's per-resource keys, one object per schema so that it is compiled
 * once. A scope without a schema stays open: its keys, this one included, are the resource's to read.
 */
export function resourceScopeSchema(own: SettingsSchema | undefined): SettingsSchema | undefined {
  if (own === undefined) return undefined;
  let merged = withLifecycleKeys.get(own);
  if (merged === undefined) {
    merged = { ...resourceLifecycleSchema, ...own };
    withLifecycleKeys.set(own, merged);
  }
  return merged;
}

/**
 * Each node's hook timeout: `system.resources.<name>.hook_timeout_ms`, else the class's
 * `@resource({ hookTimeoutMs })`, else `system.lifecycle.hook_timeout_ms`. Read once, at creation.
 */
export function hookTimeouts(graph: ResourceGraph, settings: SettingsProvider, globalMs: number): number[] {
  return graph.nodes.map((node) => {
    if (node.kind !== 'resource') return globalMs;
    const key = `${resourceSettingsPath(node.name)}.hook_timeout_ms`;
    const set = settings.get(key);
    if (set !== undefined) {
      // Checked by the schema where the resource has one; an open scope's value is checked here.
      try {
        KEEL_FORMATS.duration.validate(set);
      } catch (error) {
        throw new SettingsError(
          'SETTINGS_INVALID',
          `${key}: expected ${KEEL_FORMATS.duration.expected}, got ${JSON.stringify(set)}: ${(error as Error).message}`,
        );
      }
      return set as number;
    }
    const declared =
      'useClass' in node.provision ? resourceOptionsOf(node.provision.useClass)?.hookTimeoutMs : undefined;
    return declared ?? globalMs;
  });
}
