import { microservice, type MicroserviceOptions } from '../container/decorators';
import type { ServiceIdentifier, ResourceTypeRequired } from '../container/injection';
import type { App } from './app';
import { createMicroservice, type CreateOptions } from './create';
import { Microservice } from './microservice';

export interface ContextOptions extends MicroserviceOptions, Omit<CreateOptions, 'overrides'> {}

/**
 * The resources of a microservice for a script: the same graph, settings and lifecycle, without
 * `run`, signals or tasks. Create, start, use, close.
 */
export class MicroserviceContext {
  private constructor(private readonly app: App) {}

  static async create(options: ContextOptions): Promise<MicroserviceContext> {
    const { name, resources, providers, defaultResources, ...createOptions } = options;
    @microservice({ name, resources, providers, defaultResources })
    class ScriptContext extends Microservice {}
    return new MicroserviceContext(await createMicroservice(ScriptContext, createOptions));
  }

  async start(): Promise<this> {
    await this.app.start();
    return this;
  }

  /**
   * The instance of a class (its type), of a typed token (`resourceToken<T>(name)`), or of a name
   * with its type given (`get<Greeter>('greeter')`); the type is never taken from where the
   * result goes.
   */
  get<T = ResourceTypeRequired>(token: ServiceIdentifier<T>): NoInfer<T> {
    return this.app.get(token);
  }

  close(): Promise<void> {
    return this.app.stop();
  }
}
