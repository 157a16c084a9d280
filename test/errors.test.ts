/** The error codes are a documented, stable list: every code in src/errors.ts is in docs/errors.md. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FAILURE_CODES, McsError, exitCodeFor } from '../src/errors.js';

const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const declared = [...new Set(source.match(/'E_[A-Z_]+'/g)!.map((c) => c.slice(1, -1)))];

describe('error codes', () => {
  it('documents every declared code', () => {
    expect(declared.length).toBeGreaterThan(40);
    const undocumented = declared.filter((code) => !docs.includes(`\`${code}\``));
    expect(undocumented).toEqual([]);
  });

  it('exits 1 for verification and policy failures and 2 for everything else', () => {
    expect(exitCodeFor(new McsError('E_IDENTITY_MISMATCH', 'x'))).toBe(1);
    expect(exitCodeFor(new McsError('E_POLICY_YANKED', 'x'))).toBe(1);
    expect(exitCodeFor(new McsError('E_REGISTRY_TIMEOUT', 'x'))).toBe(2);
    expect(exitCodeFor(new Error('plain'))).toBe(2);
    for (const code of FAILURE_CODES) expect(declared).toContain(code);
  });
});
