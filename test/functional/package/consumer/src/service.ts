import {
  defineSettings,
  http,
  HttpServerResource,
  inject,
  LOGGER,
  METRICS,
  Microservice,
  microservice,
  resource,
  SETTINGS,
  type Counter,
  type HttpContext,
  type Log,
  type MeterFactory,
  type SettingsOf,
  type SettingsView,
} from 'keel';

export const greeterSchema = defineSettings({
  greeting: { doc: 'How to greet', format: String, default: 'Hello' },
  excited: { doc: 'End greetings with "!"', format: Boolean, default: false },
});

export type GreeterSettings = SettingsOf<typeof greeterSchema>;

@resource({ settings: greeterSchema })
export class Greeter {
  private readonly greeted: Counter;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<GreeterSettings>,
    @inject(METRICS) meters: MeterFactory,
    @inject(LOGGER) private readonly log: Log,
  ) {
    this.greeted = meters.counter('greetings', { help: 'Greetings sent', labelNames: ['who'] });
  }

  greet(who: string): string {
    this.greeted.labels({ who }).inc();
    this.log.info({ who }, 'greeting');
    return `${this.settings.get('greeting')}, ${who}${this.settings.get('excited') ? '!' : '.'}`;
  }
}

@microservice({ name: 'consumer', resources: { http: HttpServerResource, greeter: Greeter } })
export class ConsumerService extends Microservice {
  constructor(private readonly greeter: Greeter) {
    super();
  }

  @http('GET', '/greet/:id')
  greetOne(ctx: HttpContext): { text: string } {
    const id: string = ctx.params.id;
    return { text: this.greeter.greet(id) };
  }
}
