import type { ServiceIdentifier } from '../container/injection';
import type { Override } from '../container/graph';
import type { Provision, ResourceClass, Token } from '../container/provider';
import type { App } from '../lifecycle/app';
import { createMicroservice, type CreateOptions } from '../lifecycle/create';
import type { ResourceHealth } from '../lifecycle/manager';
import type { OnPostStart, OnPostStop, OnPreStart, OnStart, OnStop } from '../lifecycle/status';
import type { Microservice } from '../lifecycle/microservice';
import { buildGraph } from '../container/graph';
import { HttpServerResource } from '../resources/http/server';
import { deepMerge } from '../settings/tree';
import type { LifecycleSettings } from '../lifecycle/settings';
import type { LoggingSettings } from '../logging/schema';
import type { TracingSettings } from '../tracing/settings';

type Hooks = OnPreStart & OnStart & OnPostStart & OnStop & OnPostStop & { status(): ResourceHealth };

/**
 * What a replacement of a `T` must have: its public members (a class's private ones are its own)
 * but its lifecycle hooks and `status()`, which a fake may or may not have.
 */
export type Replacement<T> = { [K in keyof T as K extends keyof Hooks ? never : K]: T[K] } & Partial<Hooks>;

/** What a replacement by name is checked against until the test gives its type: nothing fits. */
export interface TypeOfNameRequired {
  'a resource overridden by name needs its type: overrideResource<Type>(name)': never;
}

/**
 * How a test replaces one node of the graph; the replacement's own dependencies replace the old
 * ones. `T` is the replaced resource's type: by class or typed token it is known, by a name it is
 * given (`overrideResource<Pool>('postgres')`); without it nothing is accepted.
 */
export interface OverrideBuilder<T> {
  useValue(value: Replacement<T>): TestingModuleBuilder;
  useClass(replacement: ResourceClass<Replacement<T>>): TestingModuleBuilder;
  useFactory(factory: (...deps: never[]) => Replacement<T>, inject?: Token[]): TestingModuleBuilder;
}

/**
 * A setting's value as a test gives it: its type, with a string setting's choices widened to any
 * string (a literal kept in a variable is typed `string`; the load checks the value).
 */
type Given<T> = T extends string
  ? T | (string & Record<never, never>)
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]?: Given<T[K]> }
      : T;

/**
 * What `withSettings` takes: Keel's own scopes typed by their schemas (a misspelled key, or a
 * number where a flag goes, does not compile), each resource's and service's under its name.
 */
export interface TestSettings {
  system?: {
    deploy_name?: string;
    logging?: Given<LoggingSettings>;
    lifecycle?: Given<LifecycleSettings>;
    tracing?: Given<TracingSettings>;
    settings?: { unknown_keys?: Given<'warn' | 'error'> };
    resources?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    microservices?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  };
}

export class TestingModuleBuilder {
  private readonly overrides: Override[] = [];
  // Tests run side by side: the report server takes a free port unless the test says otherwise.
  private settings: Record<string, unknown> = { system: { resources: { report_server: { port: 0 } } } };

  constructor(
    private readonly Service: ResourceClass<Microservice>,
    private readonly options: Omit<CreateOptions, 'overrides' | 'settings'> = {},
  ) {}

  /** By resource name (`'postgres'`, with the type it must have) or by class or token (every node of that class). */
  overrideResource<T = TypeOfNameRequired>(name: string): OverrideBuilder<T>;
  overrideResource<T>(token: ServiceIdentifier<T>): OverrideBuilder<T>;
  overrideResource<T>(target: string | ServiceIdentifier<T>): OverrideBuilder<T> {
    const swap = (provision: Provision) => {
      this.overrides.push({ target, provision });
      return this;
    };
    return {
      useValue: (value) => swap({ useValue: value }),
      useClass: (replacement) => swap({ useClass: replacement }),
      useFactory: (factory, inject) => swap({ useFactory: factory, inject }),
    };
  }

  /** Settings for this test, deep-merged over earlier calls; the highest layer. */
  withSettings(settings: TestSettings): this {
    this.settings = deepMerge(this.settings, settings as Record<string, unknown>);
    return this;
  }

  /** Builds the app without starting it; a graph or settings error rejects. */
  async compile(): Promise<App> {
    return createMicroservice(this.Service, {
      ...this.options,
      env: testEnvironment(this.options.env ?? process.env),
      settings: deepMerge(this.fastStops(), this.settings),
      overrides: this.overrides,
    });
  }

  /**
   * A test stops once its requests are answered: no HTTP server waits `drain_idle_grace_ms` for
   * one on its way (fetch's keep-alive connection made every stop take that second). A test's own
   * setting wins.
   */
  private fastStops(): Record<string, unknown> {
    const graph = buildGraph({ service: this.Service, overrides: this.overrides });
    const servers = graph.nodes.filter(
      (node) =>
        'useClass' in node.provision &&
        (node.provision.useClass === HttpServerResource ||
          node.provision.useClass.prototype instanceof HttpServerResource),
    );
    const resources = Object.fromEntries(servers.map((node) => [node.name, { drain_idle_grace_ms: 0 }]));
    return { system: { resources } };
  }

  async start(): Promise<App> {
    const app = await this.compile();
    await app.start();
    return app;
  }
}

/**
 * `NODE_ENV` is `test` unless the environment says otherwise: jest sets it, `node --test` does not,
 * and without it a test would read `config/development.yaml`, the developer's own settings.
 */
function testEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.NODE_ENV ? env : { ...env, NODE_ENV: 'test' };
}

export const Test = {
  createMicroservice(
    Service: ResourceClass<Microservice>,
    options?: Omit<CreateOptions, 'overrides' | 'settings'>,
  ): TestingModuleBuilder {
    return new TestingModuleBuilder(Service, options);
  },
};
