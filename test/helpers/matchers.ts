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

expect.extend({
  async toThrowWithCode(received: unknown, code: string) {
    if (typeof received === 'function') {
      try {
        await (received as () => unknown)();
      } catch (error) {
        return check(error, code);
      }
      return { pass: false, message: () => `expected a throw with code ${code}, but nothing was thrown` };
    }
    if (received instanceof Promise) {
      try {
        await received;
      } catch (error) {
        return check(error, code);
      }
      return { pass: false, message: () => `expected a rejection with code ${code}, but the promise resolved` };
    }
    return check(received, code);
  },
});
