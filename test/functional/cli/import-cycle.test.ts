import path from 'node:path';
import { FIXTURES, keel } from './cli';

jest.setTimeout(60_000);

// Two modules that import each other, the constructor injection of one deferred with
// LazyServiceIdentifier (the README's fix for the import): swc's CommonJS used to throw at load.
const SERVICE = path.join(FIXTURES, 'cycle', 'service.ts');

describe('an import cycle in .ts files', () => {
  it("keel graph gives Keel's CYCLE error, as the tsc build does, not a ReferenceError at load", async () => {
    const result = await keel(['graph', SERVICE]);
    expect(result.stderr).not.toContain('before initialization');
    expect(result.stderr).toContain('dependency cycle: orders → reservations → orders');
    expect(result.code).toBe(1);
  });

  it('keel run says the same', async () => {
    const result = await keel(['run', SERVICE], { KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT: '0' });
    expect(result.stderr + result.stdout).not.toContain('before initialization');
    expect(result.stderr + result.stdout).toContain('dependency cycle: orders → reservations → orders');
    expect(result.code).toBe(1);
  });
});
