// The Vitest configuration Stryker runs: the repository's, narrowed to one module's tests (KENV_MUTATION_TESTS).
import base from '../../vitest.config.ts';

const tests = (process.env.KENV_MUTATION_TESTS ?? '').split(',').filter(Boolean);

export default { ...base, test: { ...base.test, include: tests } };
