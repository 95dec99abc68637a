import type { ServiceIdentifier } from '../container/injection';
import type { Override } from '../container/graph';
import type { Provision, ResourceClass, Token } from '../container/provider';
import { createMicroservice, type App, type CreateOptions } from '../lifecycle/app';
import type { Microservice } from '../lifecycle/microservice';
import { deepMerge } from '../settings/tree';

/** How a test replaces one node of the graph; the replacement's own dependencies replace the old ones. */
export interface OverrideBuilder {
  useValue(value: unknown): TestingModuleBuilder;
  useClass(replacement: ResourceClass): TestingModuleBuilder;
  useFactory(factory: (...deps: never[]) => unknown, inject?: Token[]): TestingModuleBuilder;
}

export class TestingModuleBuilder {
  private readonly overrides: Override[] = [];
  // Tests run side by side: the report server takes a free port unless the test says otherwise.
  private settings: Record<string, unknown> = { system: { resources: { report_server: { port: 0 } } } };

  constructor(
    private readonly Service: ResourceClass<Microservice>,
    private readonly options: Omit<CreateOptions, 'overrides' | 'settings'> = {},
  ) {}

  /** By resource name (`'postgres'`) or by class or token (every node of that class). */
  overrideResource(target: string | ServiceIdentifier): OverrideBuilder {
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
  withSettings(settings: Record<string, unknown>): this {
    this.settings = deepMerge(this.settings, settings);
    return this;
  }

  /** Builds the app without starting it. */
  compile(): Promise<App> {
    return createMicroservice(this.Service, {
      ...this.options,
      settings: this.settings,
      overrides: this.overrides,
    });
  }

  async start(): Promise<App> {
    const app = await this.compile();
    await app.start();
    return app;
  }
}

export const Test = {
  createMicroservice(
    Service: ResourceClass<Microservice>,
    options?: Omit<CreateOptions, 'overrides' | 'settings'>,
  ): TestingModuleBuilder {
    return new TestingModuleBuilder(Service, options);
  },
};
