import {
  createMicroservice,
  inject,
  Microservice,
  microservice,
  resource,
  SERVICE,
  type ServiceHandle,
} from '../../../lib';
import { quietLog } from '../../support/async';

describe('ServiceHandle.onReady and beforeStopping', () => {
  it('run after every postStart, and when a stop begins while still ready, before onStopping work and stop hooks', async () => {
    const events: string[] = [];
    @resource()
    class Announcer {
      constructor(@inject(SERVICE) service: ServiceHandle) {
        service.onReady(() => {
          events.push(`ready (isReady ${service.isReady()})`);
        });
        service.beforeStopping(async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          events.push(`before stopping (isReady ${service.isReady()})`);
        });
        service.onStopping(() => {
          events.push(`stopping (isReady ${service.isReady()})`);
        });
      }
      postStart() {
        events.push('postStart');
      }
      stop() {
        events.push('stop');
      }
    }
    @resource()
    class Late {
      async postStart() {
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push('late postStart');
      }
    }
    @microservice({ name: 'svc', resources: { announcer: Announcer, late: Late }, defaultResources: false })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: quietLog() });
    await app.start();
    expect(events).toEqual(['postStart', 'late postStart', 'ready (isReady true)']);
    await app.stop();
    expect(events.slice(3)).toEqual(['before stopping (isReady true)', 'stopping (isReady false)', 'stop']);
  });

  it('log a failing announcement and go on', async () => {
    const records: { level: string; message: string; fields: object }[] = [];
    @resource()
    class Broken {
      constructor(@inject(SERVICE) service: ServiceHandle) {
        service.onReady(() => Promise.reject(new Error('etcd away')));
      }
    }
    @microservice({ name: 'svc', resources: { broken: Broken }, defaultResources: false })
    class Service extends Microservice {}
    const app = await createMicroservice(Service, { log: quietLog(records) });
    await app.start();
    expect(app.status().state).toBe('running');
    expect(records.some((record) => record.level === 'error' && record.message.includes('etcd away'))).toBe(
      true,
    );
    await app.stop();
  });
});
