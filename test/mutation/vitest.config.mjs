// The Vitest configuration Stryker runs: the repository's, narrowed to one module's tests (KENV_MUTATION_TESTS).
// The root config lists vitest `projects`, each with its own `include`, which would override ours and run the whole
// suite for every mutant: the projects are dropped here (the sync tests then use their default S3, s3rver).
import base from '../../vitest.config.ts';

const tests = (process.env.KENV_MUTATION_TESTS ?? '').split(',').filter(Boolean);
const { projects: _projects, ...test } = base.test;

export default { ...base, test: { ...test, include: tests } };
