import { execFileSync } from 'node:child_process';
import path from 'node:path';

type ContextModule = typeof import('../../../lib/resources/http/context');

/** A fresh copy of the module: the request context is process-wide state, switched on once. */
function freshContext(): ContextModule {
  let loaded: ContextModule | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<ContextModule>('../../../lib/resources/http/context');
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
      "process.stdout.write(String(require('./lib/resources/http/context').requestContextByDefault))",
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
