import {
  amqpSchema,
  http,
  HttpServerResource,
  inject,
  maskText,
  Microservice,
  microservice,
  resource,
  SETTINGS,
  SettingsProvider,
  Test,
  type App,
  type HttpContext,
  type SettingsView,
} from '../../../lib';
import { json, recordingLog, send } from '../http/requests';

const vaultSchema = {
  word: { doc: 'Opens the vault', format: String, default: '', sensitive: true },
  pin: { doc: 'A short one', format: String, default: '', sensitive: true },
};

@resource({ settings: vaultSchema })
class Vault {
  constructor(@inject(SETTINGS) readonly settings: SettingsView<{ word: string; pin: string }>) {}
}

@microservice({ name: 'bank', resources: { http: HttpServerResource, vault: Vault } })
class Bank extends Microservice {
  constructor(private readonly vault: Vault) {
    super();
  }

  @http('GET', '/refused')
  refused(ctx: HttpContext): never {
    const { word, pin } = this.vault.settings.value();
    return ctx.throw(400, `cannot use ${word} with pin ${pin}`);
  }

  @http('GET', '/broken')
  broken(): never {
    throw new Error(`the vault refused ${this.vault.settings.value().word}`);
  }
}

describe('secrets in what Keel prints', () => {
  let app: App;
  beforeAll(async () => {
    app = await Test.createMicroservice(Bank, { log: recordingLog([]) })
      .withSettings({
        system: {
          resources: {
            http: { port: 0, expose_errors: 'always' },
            vault: { word: 'zebra-horse-42', pin: '7x' },
          },
        },
      })
      .start();
  });
  afterAll(() => app.stop());

  const port = () => app.get(HttpServerResource).address()!.port;

  it("masks an error body's message (4xx) and stack (5xx) as a log line is masked", async () => {
    const refused = await send(port(), '/refused');
    expect(refused.status).toBe(400);
    expect(json(refused).error).toBe('cannot use [redacted] with pin [redacted]');
    const broken = json(await send(port(), '/broken'));
    expect(broken.stack).toContain('the vault refused [redacted]');
    expect(JSON.stringify(broken)).not.toContain('zebra');
  });

  it('masks a secret of fewer than four characters where it stands alone, not inside other words', () => {
    expect(maskText('pin 7x, not 17x nor 7xl; (7x)')).toBe('pin [redacted], not 17x nor 7xl; ([redacted])');
  });
});

describe('the AMQP url', () => {
  it('is sensitive: its value is masked whole in any text, credentials or not', async () => {
    const url = 'amqp://rabbit.internal:5672/billing';
    const settings = await SettingsProvider.load({
      serviceName: 'billing',
      scopes: [{ path: 'system.resources.amqp', owner: 'amqp', schema: amqpSchema }],
      inline: { system: { resources: { amqp: { url } } } },
      env: {},
      cwd: __dirname,
    });
    try {
      expect(maskText(`connecting to ${url}`)).toBe('connecting to [redacted]');
    } finally {
      await settings.close();
    }
  });
});
