import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/helpers/matchers.ts'],
    // the signing client honours proxy settings; loopback test services must never go through one
    env: { NO_PROXY: '127.0.0.1,localhost,::1', no_proxy: '127.0.0.1,localhost,::1' },
    globalSetup: ['test/helpers/test-cache.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
