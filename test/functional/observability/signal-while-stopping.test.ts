import { hookLines, spawnFlaky, startFlaky, stopFlakies } from './flaky';

afterEach(stopFlakies);

const LIFE_CYCLE = ['started', 'stopping', 'stopped'];

/** Each resource's hook lines, in order: `{ link: ['started', 'stopping', ...] }`. */
function journalByResource(lines: string[]): Record<string, string[]> {
  const journal: Record<string, string[]> = {};
  for (const line of lines) {
    const [name, event] = line.split(' ');
    (journal[name] ??= []).push(event);
  }
  return journal;
}

/** Per resource: whole start/stop cycles, a hook never overlapping itself, ending stopped. */
function expectWholeCycles(output: string): void {
  for (const [name, events] of Object.entries(journalByResource(hookLines(output, 0)))) {
    const cycles = Array.from({ length: Math.ceil(events.length / 3) }, () => LIFE_CYCLE).flat();
    expect({ [name]: events }).toEqual({ [name]: cycles });
  }
}

describe('a SIGTERM while resources are already stopping', () => {
  it('during a restart by a restart policy: every resource stops once, after the restart, none left started', async () => {
    const flaky = await startFlaky({ POLICY: 'restart_resource', HOLD_STOP: '1' });
    flaky.fail();
    await flaky.service.waitFor(/journal: link stopping/, 60_000);
    flaky.service.child.kill('SIGTERM');
    await flaky.service.waitFor(/SIGTERM received/, 60_000);
    flaky.release();
    expect(await flaky.service.exited).toEqual({ code: 0, signal: null });
    expectWholeCycles(flaky.service.output());
  }, 120_000);

  it('during the rollback of a failed start: every resource stops once and the exit code is 1', async () => {
    const flaky = spawnFlaky({ CLOCK_START_FAILS: '1', HOLD_STOP: '1' });
    await flaky.service.waitFor(/journal: link stopping/, 60_000);
    flaky.service.child.kill('SIGTERM');
    await flaky.service.waitFor(/SIGTERM received/, 60_000);
    flaky.release();
    expect(await flaky.service.exited).toEqual({ code: 1, signal: null });
    expect(flaky.service.output()).toContain('clock has no time source');
    expectWholeCycles(flaky.service.output());
  }, 120_000);
});
