type ContextModule = typeof import('../../../lib/resources/http/context');

/** A fresh copy of the module: the request context is process-wide state, switched on once. */
function freshContext(): ContextModule {
  let loaded: ContextModule | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<ContextModule>('../../../lib/resources/http/context');
  });
  return loaded!;
}

describe('the request context behind currentRequestId()', () => {
  it('is off until enabled, and says how to enable it rather than answer undefined', () => {
    const context = freshContext();
    expect(context.withRequestId('r-1', () => 'ran without it')).toBe('ran without it');
    expect(() => context.withRequestId('r-1', context.currentRequestId)).toThrow(/enableRequestContext\(\)/);
  });

  it('carries the id across awaits once enabled, and is undefined outside a request', async () => {
    const context = freshContext();
    context.enableRequestContext();
    const seen = await context.withRequestId('r-2', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return context.currentRequestId();
    });
    expect(seen).toBe('r-2');
    expect(context.currentRequestId()).toBeUndefined();
  });
});
