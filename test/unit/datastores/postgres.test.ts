import { Microservice, microservice, PostgresResource, Test } from '../../../lib';
import { quietLog } from '../../support/async';
import { closedPort } from '../../support/etcd';

@microservice({ name: 'billing', resources: { postgres: PostgresResource } })
class Billing extends Microservice {}

describe('PostgresResource without a server', () => {
  it('names the package to install when pg is missing', () => {
    jest.isolateModules(() => {
      jest.doMock('pg', () => {
        throw Object.assign(new Error("Cannot find module 'pg'"), { code: 'MODULE_NOT_FOUND' });
      });
      type Driver = typeof import('../../../lib/resources/postgres/driver');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { loadPg } = require('../../../lib/resources/postgres/driver') as Driver;
      expect(() => loadPg('billing_db')).toThrow(
        "PostgresResource 'billing_db' needs the package pg, which is not installed: npm install pg",
      );
    });
    jest.dontMock('pg');
  });

  it('fails the start after reconnect.start_attempts with the target and without the password', async () => {
    const port = await closedPort();
    const failure = await Test.createMicroservice(Billing, { log: quietLog() })
      .withSettings({
        system: {
          resources: {
            postgres: {
              url: `postgres://app:hunter2-secret@127.0.0.1:${port}/billing`,
              reconnect: { min_ms: 1, max_ms: 2, start_attempts: 2 },
            },
          },
        },
      })
      .start()
      .catch((error: unknown) => error);
    expect(String(failure)).toContain(
      `postgres 'postgres' cannot connect to postgres://app@127.0.0.1:${port}/billing after 2 attempt(s)`,
    );
    expect(String(failure)).not.toContain('hunter2');
  });

  it('refuses queries before start', async () => {
    const app = await Test.createMicroservice(Billing, { log: quietLog() }).compile();
    await expect(app.get(PostgresResource).query('SELECT 1')).rejects.toMatchObject({
      code: 'POSTGRES_NOT_STARTED',
    });
  });
});
