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
    });
    started.push(service);
    expect(await service.exited).toEqual({ code: 1, signal: null });
    const output = service.output();
    expect(output).toContain('Invalid settings for service "settings_etcd" (2 problems)');
    expect(output).toContain(
      'system.resources.announcer.volume: expected one of ["quiet","normal","loud"], got "deafening" (from env KEEL__SYSTEM__RESOURCES__ANNOUNCER__VOLUME)',
    );
    expect(output).toContain(
      'system.lifecycle.hook_timeout_ms: expected nat (integer >= 0), got -5 (from env KEEL__SYSTEM__LIFECYCLE__HOOK_TIMEOUT_MS)',
    );
    expect(output).not.toMatch(/preStart done|announcer started/);
  });
});
