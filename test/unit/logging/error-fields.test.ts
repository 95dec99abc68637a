import { errorFields } from '../../../lib/logging/error-fields';

describe('errorFields, the err serializer', () => {
  it("keeps each cause's name, message and code, and its stack after the error's own", () => {
    const root = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const middle = new Error('pool failed', { cause: root });
    const top = Object.assign(new Error('start failed', { cause: middle }), { code: 'HOOK_FAILED' });
    const fields = errorFields(top) as { stack: string };
    expect(fields).toEqual({
      name: 'Error',
      message: 'start failed',
      code: 'HOOK_FAILED',
      stack: `${top.stack}\nCaused by: ${middle.stack}\nCaused by: ${root.stack}`,
      cause: {
        name: 'Error',
        message: 'pool failed',
        cause: { name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' },
      },
    });
  });

  it("follows a VError's cause() method as bunyan does, and a cause that is not an Error as text", () => {
    const root = new Error('disk full');
    const verror = Object.assign(new Error('write failed'), { cause: () => root });
    expect(errorFields(verror)).toMatchObject({ cause: { message: 'disk full' } });
    expect(errorFields(new Error('refused', { cause: 'EPERM' }))).toMatchObject({
      cause: 'EPERM',
      stack: expect.stringMatching(/\nCaused by: EPERM$/),
    });
  });

  it('stops at a cycle of causes and leaves what is not an error alone', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorFields(a)).toMatchObject({ message: 'a', cause: { message: 'b' } });
    expect((errorFields(a) as { stack: string }).stack.match(/Caused by/g)).toHaveLength(1);
    expect(errorFields('text')).toBe('text');
    expect(errorFields(undefined)).toBeUndefined();
  });
});
