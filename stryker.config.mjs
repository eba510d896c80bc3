// Mutation testing of the modules that carry a guarantee (see test/mutation/README.md).
// One module per run: KENV_MUTATION_MODULE=<name> (set by test/mutation/run.mjs from test/mutation/modules.mjs).
import { MODULES } from './test/mutation/modules.mjs';

const name = process.env.KENV_MUTATION_MODULE ?? 'atomic-output';
const module = MODULES[name];
if (!module) throw new Error(`Unknown mutation module ${name}; one of: ${Object.keys(MODULES).join(', ')}`);
process.env.KENV_MUTATION_TESTS = module.tests.join(',');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.mjs', related: false },
  // KENV_MUTATION_CHECKERS=none skips the type check of each mutant (much faster on a loaded machine; a mutant that
  // does not compile then runs anyway and is counted killed or survived by the tests).
  checkers: process.env.KENV_MUTATION_CHECKERS === 'none' ? [] : ['typescript'],
  tsconfigFile: 'test/mutation/tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: module.mutate,
  coverageAnalysis: 'perTest',
  // The machine this runs on is shared: one sandbox at a time. Raise it (--concurrency 4) on a free machine.
  concurrency: 1,
  timeoutMS: 30_000,
  timeoutFactor: 3,
  incremental: true,
  incrementalFile: `test/mutation/incremental/${name}.json`,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  // out/cli stays: the CLI tests in a module's list run the built bundle (bin/kenv.js loads out/cli/kenv.cjs).
  ignorePatterns: ['out/*', '!out/cli', 'reports', 'dist', 'release', '.stryker-tmp*', 'test/fixtures/**/*.zip'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
