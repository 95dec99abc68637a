import { createMicroservice, Microservice, microservice, SettingsError, TracingError } from '../../../lib';
import { requirePeer } from '../../../lib/tracing/sdk';
import { quietLog } from '../../support/async';

@microservice({ name: 'plain', defaultResources: false, resources: {} })
class Plain extends Microservice {}

describe('system.tracing', () => {
  it('names the package to install when an OpenTelemetry peer is missing', () => {
    let thrown: unknown;
    try {
      requirePeer('@opentelemetry/exporter-not-installed', "exporter: 'zipkin'");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TracingError);
    expect(thrown).toMatchObject({
      code: 'TRACING_MISSING_PACKAGE',
      message:
        "system.tracing: exporter: 'zipkin' needs the package @opentelemetry/exporter-not-installed, which is not installed: npm install @opentelemetry/exporter-not-installed",
    });
  });

  it.each([
    ['sample_ratio', 1.5],
    ['max_queue', 0],
    ['exporter', 'jaeger'],
    ['headers', { authorization: 42 }],
  ])('refuses %s = %j at start, naming the key', async (key, value) => {
    const creating = createMicroservice(Plain, {
      settings: { system: { tracing: { enabled: true, [key]: value } } },
      log: quietLog(),
    });
    await expect(creating).rejects.toBeInstanceOf(SettingsError);
    await expect(creating).rejects.toThrow(`system.tracing.${key}`);
  });

  it('makes spans without sending them with exporter none', async () => {
    const records: { level: string; message: string; fields: object }[] = [];
    const app = await createMicroservice(Plain, {
      settings: { system: { tracing: { enabled: true, exporter: 'none' } } },
      log: quietLog(records),
    });
    expect(app.tracing.enabled).toBe(true);
    await app.start();
    await app.stop();
    const ready = records.find((record) => record.message.startsWith('plain ready in'));
    expect(ready?.fields).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(app.tracing.droppedSpans()).toBe(0);
  });
});
