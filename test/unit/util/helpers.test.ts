import { isPromiseLike, messageOf } from '../../../lib';

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
