import convict from 'convict';
import { quietLog } from '../../support/async';

/** A user's own `duration`: a number of milliseconds, or text such as '5 minutes'. */
const userDuration = {
  name: 'duration',
  validate: (value: unknown) => {
    if (!Number.isInteger(value) && !(typeof value === 'string' && /^\d+ minutes?$/.test(value)))
      throw new Error('must be a duration');
  },
};

describe("convict's format table", () => {
  it("keeps a user's own duration format working after Keel is required, and Keel keeps its own", async () => {
    convict.addFormat(userDuration);
    // Required after the user's format, as a service that configures convict first does.
    const keel = jest.requireActual<typeof import('../../../lib')>('../../../lib');
    const config = convict({ wait: { doc: 'how long', format: 'duration', default: '5 minutes' } });
    config.validate({ allowed: 'strict' });
    expect(config.get('wait')).toBe('5 minutes');

    // Inside Keel, `duration` is Keel's: integer milliseconds, '5 minutes' refused.
    @keel.resource({ settings: { wait: { doc: 'how long', format: 'duration', default: 1000 } } })
    class Waiter {}
    @keel.microservice({ name: 'waiting', resources: { waiter: Waiter }, defaultResources: false })
    class Waiting extends keel.Microservice {}
    await expect(
      keel.createMicroservice(Waiting, {
        log: quietLog(),
        settings: { system: { resources: { waiter: { wait: '5 minutes' } } } },
      }),
    ).rejects.toMatchObject({
      code: 'SETTINGS_INVALID',
      message: expect.stringContaining(
        'system.resources.waiter.wait: expected duration (integer milliseconds',
      ),
    });
  });
});
