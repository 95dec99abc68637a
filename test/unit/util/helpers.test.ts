import { isPromiseLike, messageOf } from '../../../lib';
import { isAbortError } from '../../../lib/util';

describe('messageOf', () => {
  it("gives an Error's message and anything else thrown as text", () => {
    expect(messageOf(new TypeError('bad input'))).toBe('bad input');
    expect(messageOf('plain text')).toBe('plain text');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
    expect(messageOf(null)).toBe('null');
  });
});

describe('isPromiseLike', () => {
  it('takes a Promise and any object or function with a then method', () => {
    const thenableFunction = Object.assign(() => undefined, { then: () => undefined });
    expect(isPromiseLike(Promise.resolve(1))).toBe(true);
    expect(isPromiseLike({ then: (resolve: (value: number) => void) => resolve(1) })).toBe(true);
    expect(isPromiseLike(thenableFunction)).toBe(true);
  });

  it('refuses values without a callable then, null and primitives', () => {
    for (const value of [undefined, null, 0, 'then', { then: 'not a function' }, {}, () => undefined]) {
      expect(isPromiseLike(value)).toBe(false);
    }
  });
});

describe('isAbortError', () => {
  it('takes an Error named AbortError, as an aborted wait rejects with, and nothing else', () => {
    const aborted = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    expect(isAbortError(aborted)).toBe(true);
    expect(isAbortError(new Error('aborted'))).toBe(false);
    expect(isAbortError({ name: 'AbortError' })).toBe(false);
  });
});
