import {
  AmqpResource,
  CODECS,
  Codecs,
  createMicroservice,
  GraphError,
  maskText,
  Microservice,
  microservice,
  resource,
  type App,
  type Codec,
  type ResourceGraph,
} from '../../../lib';
import { quietLog } from '../../support/async';

const lines: Codec = {
  contentType: 'text/x-lines',
  encode: (value) => Buffer.from(String(value)),
  decode: (bytes) => bytes.toString(),
};

const checked: string[] = [];
/** A rule of alpha's module only: beta, which has no report server, would fail it. */
function needsReportServer(graph: ResourceGraph): void {
  checked.push(graph.serviceName);
  if (!graph.byName.has('report_server'))
    throw new GraphError('MISSING_PROVIDER', `${graph.serviceName} has no report server`);
}

@resource({ settings: { password: { doc: 'secret', format: String, default: '', sensitive: true } } })
class Vault {}

@microservice({
  name: 'alpha',
  resources: { amqp: AmqpResource, vault: Vault },
  providers: [{ provide: CODECS, useValue: new Codecs({ lines }) }],
  checks: [needsReportServer],
})
class Alpha extends Microservice {}

@microservice({ name: 'beta', resources: { amqp: AmqpResource, vault: Vault }, defaultResources: false })
class Beta extends Microservice {}

function create(Service: typeof Alpha | typeof Beta, password: string): Promise<App> {
  return createMicroservice(Service, {
    log: quietLog(),
    settings: { system: { resources: { amqp: { codec: 'lines' }, vault: { password } } } },
  });
}

describe('two apps in one process', () => {
  it('see only their own defaults, graph checks and codecs', async () => {
    const alpha = await create(Alpha, 'alpha-secret-1');
    expect(alpha.graph.nodes.map((node) => node.name)).toEqual(
      expect.arrayContaining(['report_server', 'metrics', 'status']),
    );
    // Beta asks for the codec alpha's module provides; its own module provides none.
    const beta = await create(Beta, 'beta-secret-2').catch((error: unknown) => error);
    expect(beta).toMatchObject({ code: 'CONSTRUCTOR_FAILED' });
    expect((beta as Error).cause).toMatchObject({ code: 'CODEC_UNKNOWN' });
    // Alpha's graph check ran for alpha's graph only: beta failed in a constructor, after its checks.
    expect(checked).toEqual(['alpha']);
    await alpha.stop();
  });

  it('leave out the built-ins only for the module that says so', async () => {
    const beta = await createMicroservice(Beta, {
      log: quietLog(),
      settings: { system: { resources: { vault: { password: 'beta-secret-3' } } } },
    });
    const alpha = await create(Alpha, 'alpha-secret-4');
    expect(beta.graph.byName.has('report_server')).toBe(false);
    expect(alpha.graph.byName.has('report_server')).toBe(true);
    // Secret values are masked across apps on purpose (they share stdout), each until its app stops.
    expect(maskText('alpha-secret-4 beta-secret-3')).toBe('[redacted] [redacted]');
    await alpha.stop();
    expect(maskText('alpha-secret-4 beta-secret-3')).toBe('alpha-secret-4 [redacted]');
    await beta.stop();
    expect(maskText('beta-secret-3')).toBe('beta-secret-3');
  });
});
