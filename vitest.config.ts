import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stops the shared Ceph radosgw that S3 tests start on first use.
    globalSetup: ['test/helpers/ceph-global-setup.ts'],
    // Integration tests share one Docker engine and start their own
    // redis-servers; two cores do not gain from more parallel files.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    env: {
      // Real git in temp dirs, never the developer's global config.
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
    },
  },
});
