import { killAll, spawnService, type ServiceProcess } from '../../support/process';

jest.setTimeout(60_000);

const started: ServiceProcess[] = [];
afterEach(() => killAll(started.splice(0)));

describe('a service with invalid settings under run()', () => {
  it('exits 1 before any hook runs, listing every bad key of every scope with its format and layer', async () => {
    const service = spawnService('samples/settings-etcd/main.ts', {
      KEEL_ETCD_HOSTS: '',
      KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0',
      KEEL__SYSTEM__RESOURCES__ANNOUNCER__VOLUME: 'deafening',
      KEEL__SYSTEM__LIFECYCLE__HOOK_TIMEOUT_MS: '-5',
      // Node would fire it after 1 ms.
      KEEL__SYSTEM__LIFECYCLE__STOP_TIMEOUT_MS: '3000000000',
      KEEL__SYSTEM__SETTINGS__UNKNOWN_KEYS: 'error',
      KEEL__SYSTEM__LIFECYLE__STOP_TIMEOUT_MS: '5',
    });
    started.push(service);
    expect(await service.exited).toEqual({ code: 1, signal: null });
    const output = service.output();
    expect(output).toContain('Invalid settings for service "settings_etcd" (4 problems)');
    expect(output).toContain(
      'system.resources.announcer.volume: expected one of ["quiet","normal","loud"], got "deafening" (from env KEEL__SYSTEM__RESOURCES__ANNOUNCER__VOLUME)',
    );
    expect(output).toContain(
      'system.lifecycle.hook_timeout_ms: expected duration (integer milliseconds 0-2147483647), got -5 (from env KEEL__SYSTEM__LIFECYCLE__HOOK_TIMEOUT_MS)',
    );
    expect(output).toContain(
      'system.lifecycle.stop_timeout_ms: expected duration (integer milliseconds 0-2147483647), got 3000000000 (from env KEEL__SYSTEM__LIFECYCLE__STOP_TIMEOUT_MS)',
    );
    expect(output).toContain(
      'system.lifecyle (from env KEEL__SYSTEM__LIFECYLE__STOP_TIMEOUT_MS): no schema declares it; did you mean system.lifecycle.',
    );
    expect(output).not.toMatch(/preStart done|announcer started/);
  });
});
