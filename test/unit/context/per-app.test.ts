import {
  createMicroservice,
  HttpClientResource,
  Microservice,
  microservice,
  requestContextOn,
} from '../../../lib';
import { quietLog } from '../../support/async';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const nodeFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const frameByDefault = NODE_MAJOR >= 24 && !nodeFlags.includes('--no-async-context-frame');

@microservice({ name: 'caller', resources: { client: HttpClientResource }, defaultResources: false })
class Caller extends Microservice {}

@microservice({ name: 'quiet', resources: {}, defaultResources: false })
class Quiet extends Microservice {}

describe('the request context, switched on per app', () => {
  it('is held on by an app whose HttpClientResource passes request ids on, until that app stops', async () => {
    const quiet = await createMicroservice(Quiet, { log: quietLog() });
    await quiet.start();
    expect(requestContextOn()).toBe(frameByDefault);
    const caller = await createMicroservice(Caller, {
      log: quietLog(),
      settings: { system: { resources: { client: { base_url: 'http://127.0.0.1:9' } } } },
    });
    expect(requestContextOn()).toBe(true);
    await caller.start();
    await caller.stop();
    // The other app never asked for it: where it costs a hook per promise, it is off again.
    expect(requestContextOn()).toBe(frameByDefault);
    await quiet.stop();
  });
});
