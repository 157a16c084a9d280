import { expect } from 'vitest';
import { McsError } from '../../src/errors.js';

interface CodeMatchers<R = unknown> {
  /** The value is an McsError with this code (for a thrown error, pass a function). */
  toThrowWithCode(code: string): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Assertion<T = any> extends CodeMatchers<T> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AsymmetricMatchersContaining extends CodeMatchers {}
}

function check(error: unknown, code: string): { pass: boolean; message: () => string } {
  if (!(error instanceof McsError)) {
    return { pass: false, message: () => `expected an McsError with code ${code}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` };
  }
  return {
    pass: error.code === code,
    message: () => `expected code ${code}, got ${error.code}: ${error.message}`,
  };
}

/**
 * Synchronous for a function that throws or returns, so an un-awaited
 * assertion still fails its own test; only a promise (or a function returning
 * one) makes the matcher async, and then it must be awaited.
 */
expect.extend({
  toThrowWithCode(received: unknown, code: string) {
    const settle = (promise: PromiseLike<unknown>) =>
      Promise.resolve(promise).then(
        () => ({ pass: false, message: () => `expected a rejection with code ${code}, but it resolved` }),
        (error: unknown) => check(error, code),
      );
    if (typeof received === 'function') {
      let returned: unknown;
      try {
        returned = (received as () => unknown)();
      } catch (error) {
        return check(error, code);
      }
      if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') return settle(returned as PromiseLike<unknown>);
      return { pass: false, message: () => `expected a throw with code ${code}, but nothing was thrown` };
    }
    if (received && typeof (received as PromiseLike<unknown>).then === 'function') return settle(received as PromiseLike<unknown>);
    return check(received, code);
  },
});
