// The Vitest configuration Stryker runs: the repository's, narrowed to one module's tests (KENV_MUTATION_TESTS).
// The root configuration splits the suite into projects (kenv, s3rver, moto); a project's own `include` would win
// over ours, so the projects are dropped and the sync integration tests run once, on the s3rver backend (the fast one).
import base from '../../vitest.config.ts';

const tests = (process.env.KENV_MUTATION_TESTS ?? '').split(',').filter(Boolean);
const { projects: _projects, ...test } = base.test;

export default {
  ...base,
  test: { ...test, include: tests, env: { ...test.env, KENV_TEST_S3: 's3rver' } },
};
