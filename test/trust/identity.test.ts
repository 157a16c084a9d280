/** The spellings of a repository a user may give, and ref patterns. */
import { describe, expect, it } from 'vitest';
import { normalizeRepository, refMatches } from '../../src/trust/identity.js';

describe('normalizeRepository', () => {
  it('reads owner/repo as GitHub, and full or host-relative URLs as given', () => {
    expect(normalizeRepository('mcs-index/index')).toBe('https://github.com/mcs-index/index');
    expect(normalizeRepository('github.com/mcs-index/index.git')).toBe('https://github.com/mcs-index/index');
    expect(normalizeRepository('http://github.com/mcs-index/index/')).toBe('https://github.com/mcs-index/index');
    expect(normalizeRepository('https://gitlab.com/group/sub/project')).toBe('https://gitlab.com/group/sub/project');
  });
});

describe('refMatches', () => {
  it('matches exactly, or by prefix with one trailing *', () => {
    expect(refMatches('refs/heads/main', 'refs/heads/main')).toBe(true);
    expect(refMatches('refs/heads/main', 'refs/heads/main2')).toBe(false);
    expect(refMatches('refs/tags/v*', 'refs/tags/v1.2.0')).toBe(true);
    expect(refMatches('refs/tags/v*', 'refs/heads/v1')).toBe(false);
  });
});
