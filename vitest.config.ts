import { defineConfig } from 'vitest/config';

/** The sync integration tests run twice: against s3rver behind our proxy, and against moto, an S3 written by others. */
const syncIntegration = 'test/integration/sync/**/*.test.ts';

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'out/**'],
    // npm run coverage raises both (KENV_TEST_TIMEOUT_MS): its --hookTimeout does not reach the projects' hooks.
    testTimeout: Number(process.env.KENV_TEST_TIMEOUT_MS) || 60_000,
    hookTimeout: Number(process.env.KENV_TEST_TIMEOUT_MS) || 60_000,
    // `expect.poll` waits for something another process or a watcher does (a page's first render after KMS calls, a
    // file event). Its default of 1 s is a fixed wait that a loaded machine misses: the renderer's key list took longer
    // and failed a run. A poll ends as soon as its condition holds, so a longer limit only delays a real failure. 30 s
    // is Playwright's own limit for the locator waits beside these polls.
    expect: { poll: { timeout: 30_000 } },
    pool: 'forks',
    passWithNoTests: false,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'kenv', include: ['test/**/*.test.ts'], exclude: ['node_modules/**', 'out/**', syncIntegration] } },
      { extends: true, test: { name: 's3rver', include: [syncIntegration], env: { KENV_TEST_S3: 's3rver' } } },
      {
        extends: true,
        test: {
          name: 'moto',
          include: [syncIntegration],
          // 10,000 files measure the engine's scale (pagination, index saves, concurrency), not S3's rules, which the
          // other files check on moto; moto's ~6 ms per request would add a minute to every run on two shared cores.
          exclude: ['node_modules/**', 'out/**', 'test/integration/sync/many-files.test.ts'],
          env: { KENV_TEST_S3: 'moto' },
        },
      },
    ],
  },
});
