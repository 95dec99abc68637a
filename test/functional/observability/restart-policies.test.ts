import { hookLines, startFlaky, stopFlakies, type Flaky } from './flaky';
import { get, statusWhen, type StatusRow } from './report-client';

const RESTART_EXIT_CODE = 2;

afterEach(stopFlakies);

/** Fails the link and waits until /status says so; the answer must still be JSON. */
async function failAndReadStatus(flaky: Flaky): Promise<Map<string, StatusRow>> {
  flaky.fail();
  const failing = await statusWhen(flaky.port, 503);
  expect(failing.type).toContain('application/json');
  return failing.rows;
}

describe('restart policies in a running service', () => {
  it('restart_resource_on_failure restarts the resource and its dependents, in order, and the service keeps running', async () => {
    const flaky = await startFlaky({ POLICY: 'restart_resource' });
    const before = flaky.service.output().length;
    flaky.fail();
    await flaky.service.waitFor(/resource 'link' FAILED \(link lost its peer\): restarted/, 60_000);
    expect(hookLines(flaky.service.output(), before)).toEqual([
      'api stopping',
      'api stopped',
      'feed stopping',
      'feed stopped',
      'link stopping',
      'link stopped',
      'link started',
      'feed started',
      'api started',
    ]);
    const healed = await statusWhen(flaky.port, 200);
    expect(healed.rows.get('link')).toMatchObject({ status: 'STARTED' });
    expect((await get(flaky.port, '/health/live')).status).toBe(200);
    flaky.service.child.kill('SIGTERM');
    expect(await flaky.service.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('answers /health/live 200 while a restart is under way: liveness is the process, not its resources', async () => {
    const flaky = await startFlaky({ POLICY: 'restart_resource', HOLD_STOP: '1' });
    flaky.fail();
    await flaky.service.waitFor(/journal: link stopping/, 60_000);
    const during = await get(flaky.port, '/health/live');
    expect(during.status).toBe(200);
    expect(JSON.parse(during.text)).toEqual({ live: true, state: 'running' });
    flaky.release();
    await flaky.service.waitFor(/: restarted/, 60_000);
    expect((await get(flaky.port, '/health/live')).status).toBe(200);
  }, 120_000);

  it('escalates to a service restart (exit 2) when the resource keeps failing after max_restarts', async () => {
    const flaky = await startFlaky({ POLICY: 'restart_resource', LINK_HEALS: '0', MAX_RESTARTS: '2' });
    flaky.fail();
    expect(await flaky.service.exited).toEqual({ code: RESTART_EXIT_CODE, signal: null });
    const output = flaky.service.output();
    expect(output).toContain(
      "resource 'link' FAILED (link lost its peer) after 2 restarts within 600000 ms: restarting the service",
    );
    // The first start and the two restarts, nothing more.
    expect(output.match(/^journal: link started$/gm)).toHaveLength(3);
    expect(output.match(/^journal: clock started$/gm)).toHaveLength(1);
  }, 120_000);

  it('restart_microservice_on_failure stops the service with exit 2; /health/live is 503 meanwhile', async () => {
    const flaky = await startFlaky({ POLICY: 'restart_microservice', HOLD_STOP: '1' });
    flaky.fail();
    await flaky.service.waitFor(/journal: link stopping/, 60_000);
    const live = await get(flaky.port, '/health/live');
    expect(live.status).toBe(503);
    expect(JSON.parse(live.text)).toEqual({ live: false, state: 'stopping' });
    expect((await get(flaky.port, '/health/ready')).status).toBe(503);
    flaky.release();
    expect(await flaky.service.exited).toEqual({ code: RESTART_EXIT_CODE, signal: null });
    expect(flaky.service.output()).toContain(
      "resource 'link' FAILED (link lost its peer): restart_microservice_on_failure",
    );
    expect(flaky.service.output()).toContain('journal: clock stopped');
  }, 120_000);

  it('without a policy, /status shows FAILED with the text while failing, and STARTED again once it heals', async () => {
    const flaky = await startFlaky({ POLICY: 'none', LINK_HEALS: '0' });
    const failing = await failAndReadStatus(flaky);
    expect(failing.get('link')).toEqual(
      expect.objectContaining({ status: 'FAILED', statusText: 'link lost its peer' }),
    );
    expect(failing.get('feed')).toMatchObject({ status: 'STARTED' });
    expect((await get(flaky.port, '/health/live')).status).toBe(200);
    flaky.heal();
    const healed = await statusWhen(flaky.port, 200);
    expect(healed.rows.get('link')).toMatchObject({ status: 'STARTED' });
    expect(flaky.service.output()).not.toContain('restarting');
  }, 120_000);
});

describe('bad input to the report server of a running service', () => {
  it('shows a status() that throws as FAILED with the message, and /status still answers 503 JSON', async () => {
    const flaky = await startFlaky({ POLICY: 'none', FAIL_HOW: 'throw' });
    const failing = await failAndReadStatus(flaky);
    expect(failing.get('link')).toEqual(
      expect.objectContaining({ status: 'FAILED', statusText: 'status() threw: probe exploded' }),
    );
    expect((await get(flaky.port, '/status/graph')).status).toBe(200);
    expect((await get(flaky.port, '/metrics')).status).toBe(200);
  }, 120_000);

  it('answers unknown routes, near misses included, with 404 JSON naming the path', async () => {
    const flaky = await startFlaky({ POLICY: 'none' });
    for (const path of ['/healthz', '/status/graph/extra', '/metrics.json', '/health/live/', '/STATUS']) {
      const reply = await get(flaky.port, path);
      expect(reply.status).toBe(404);
      expect(reply.type).toContain('application/json');
      expect(JSON.parse(reply.text)).toEqual({ error: 'not found', path });
    }
    const query = await get(flaky.port, '/status?verbose=1');
    expect(query.status).toBe(200);
  }, 120_000);
});
