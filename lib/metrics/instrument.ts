import { isPromiseLike } from '../util';

/**
 * One wrapper behind every "measure this function" helper (`timeit`, `countCalls`,
 * `countExceptions`, `trackInProgress`), so sync and async functions, methods and plain functions
 * are all measured the same way.
 */

// `never[]` makes every function assignable whatever its parameters are.
export type AnyFunction = (...args: never[]) => unknown;

/** A legacy (experimentalDecorators) method decorator that keeps the method's type. */
export type MethodDecorator = <F extends AnyFunction>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<F>,
) => TypedPropertyDescriptor<F>;

/** Called when the function is entered; the returned callback when it returns, throws or settles. */
export type CallObserver = () => (failed: boolean) => void;

/** `helper()` decorates a method, `helper(fn)` wraps a function. */
export interface Instrument {
  (): MethodDecorator;
  <F extends AnyFunction>(fn: F): F;
}

export function instrument(observe: CallObserver): Instrument {
  function apply(): MethodDecorator;
  function apply<F extends AnyFunction>(fn: F): F;
  function apply<F extends AnyFunction>(fn?: F): F | MethodDecorator {
    if (fn !== undefined) return wrap(fn, observe);
    const decorate: MethodDecorator = (_target, key, descriptor) => {
      const method = descriptor.value;
      if (typeof method !== 'function') {
        throw new TypeError(`metrics decorators apply to methods; "${String(key)}" is not a method`);
      }
      return { ...descriptor, value: wrap(method, observe) };
    };
    return decorate;
  }
  return apply;
}

function wrap<F extends AnyFunction>(fn: F, observe: CallObserver): F {
  const wrapped = function (this: unknown, ...args: Parameters<F>): unknown {
    const done = observe();
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (error) {
      done(true);
      throw error;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => {
          done(false);
          return value;
        },
        (error: unknown) => {
          done(true);
          throw error;
        },
      );
    }
    done(false);
    return result;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  return wrapped as F;
}
