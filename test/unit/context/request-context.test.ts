import { execFileSync } from 'node:child_process';
import path from 'node:path';

type ContextModule = typeof import('../../../lib/context');

/** A fresh copy of the module: the request context is process-wide state, switched on once. */
function freshContext(): ContextModule {
  let loaded: ContextModule | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<ContextModule>('../../../lib/context');
  });
  return loaded!;
}

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const nodeFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
/** Node 24 and later run AsyncLocalStorage on AsyncContextFrame unless told not to. */
const frameByDefault = NODE_MAJOR >= 24 && !nodeFlags.includes('--no-async-context-frame');

/** `requestContextByDefault` as a child process with these Node flags sees it. */
function defaultInChild(flags: readonly string[]): boolean {
  const output = execFileSync(
    process.execPath,
    [
      ...flags,
      '-r',
      '@swc-node/register',
      '-e',
      "process.stdout.write(String(require('./lib/context').requestContextByDefault))",
    ],
    { cwd: path.resolve(__dirname, '../../..'), env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' },
  );
  return output === 'true';
}

describe('the request context behind currentRequestId()', () => {
  it(`is ${frameByDefault ? 'on' : 'off'} by default on Node ${process.versions.node}, where AsyncLocalStorage ${frameByDefault ? 'rides on AsyncContextFrame' : 'uses async hooks'}`, async () => {
    const context = freshContext();
    expect(context.requestContextByDefault).toBe(frameByDefault);
    if (frameByDefault) {
      const seen = await context.withRequestId('r-0', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return context.currentRequestId();
      });
      expect(seen).toBe('r-0');
      expect(context.currentRequestId()).toBeUndefined();
    } else {
      expect(context.withRequestId('r-1', () => 'ran without it')).toBe('ran without it');
      expect(() => context.withRequestId('r-1', context.currentRequestId)).toThrow(
        expect.objectContaining({
          name: 'RequestContextError',
          code: 'REQUEST_CONTEXT_OFF',
          message: expect.stringMatching(
            new RegExp(`off by default on Node ${process.versions.node}.*enableRequestContext\\(\\)`),
          ),
        }),
      );
    }
  });

  it('follows the AsyncContextFrame flag of the process, not its Node version', () => {
    // Each Node line offers the flag that turns the default around, when it has one.
    const flip = ['--no-async-context-frame', '--experimental-async-context-frame'].find((flag) =>
      process.allowedNodeEnvironmentFlags.has(flag),
    );
    expect(defaultInChild([])).toBe(NODE_MAJOR >= 24);
    if (flip !== undefined)
      expect(defaultInChild([flip])).toBe(flip === '--experimental-async-context-frame');
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

describe('values of the request context', () => {
  it('carries typed values by key across awaits, each key its own, kept when the request id is set', async () => {
    const context = freshContext();
    context.enableRequestContext();
    const tenant = new context.ContextKey<string>('tenant');
    const attempt = new context.ContextKey<number>('attempt');
    const seen = await context.withContextValue(tenant, 'acme', () =>
      context.withContextValue(attempt, 2, () =>
        context.withRequestId('r-3', async () => {
          await new Promise((resolve) => setImmediate(resolve));
          return [context.contextValue(tenant), context.contextValue(attempt), context.contextRequestId()];
        }),
      ),
    );
    expect(seen).toEqual(['acme', 2, 'r-3']);
    expect(context.contextValue(tenant)).toBeUndefined();
  });

  it('continues a captured context in a callback that lost it', async () => {
    const context = freshContext();
    context.enableRequestContext();
    const captured = context.withRequestId('r-4', () => context.currentContext())!;
    const later = await new Promise<string | undefined>((resolve) =>
      setImmediate(() => resolve(context.withContext(captured, () => context.currentRequestId()))),
    );
    expect(later).toBe('r-4');
  });
});

describe('holding the request context on', () => {
  it(`${frameByDefault ? 'changes nothing where it is on by default' : 'turns it on until the last hold is released'}`, () => {
    const context = freshContext();
    const first = context.holdRequestContext();
    const second = context.holdRequestContext();
    expect(context.withRequestId('r-5', context.currentRequestId)).toBe('r-5');
    first();
    first(); // a release counts once
    expect(context.requestContextOn()).toBe(true);
    second();
    expect(context.requestContextOn()).toBe(frameByDefault);
    if (!frameByDefault) expect(() => context.currentRequestId()).toThrow(context.RequestContextError);
  });
});
