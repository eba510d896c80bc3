/**
 * `npm run lint:electron`: Doyensec's Electronegativity over electron/ and renderer/, failing on any finding of
 * medium severity or above (a finding that is wrong carries an `eng-disable` comment with the reason, in the code).
 *
 * It is run through its programmatic API: its command line needs an older `commander` than the one this project
 * depends on. Its one network call (updated translations) is answered locally, so the run is offline and repeatable.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const runnerPath = require.resolve('@doyensec/electronegativity');
const fromRunner = createRequire(runnerPath);
// The i18n loader fetches translations with `got`; the English strings ship in the package.
const gotPath = fromRunner.resolve('got', { paths: [join(dirname(runnerPath), 'locales')] });
require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: () => Promise.reject(new Error('offline')) };
const run = fromRunner(runnerPath);

// Both folders in one run: its global checks (CSP, navigation limits, permission handler) look across the main
// process and the page together.
const input = await mkdtemp(join(tmpdir(), 'kenv-electronegativity-'));
const quiet = console.log;
let failed;
try {
  for (const folder of ['electron', 'renderer']) await cp(join(root, folder), join(input, folder), { recursive: true });
  console.log = () => undefined;
  const result = await run({ input, severitySet: 'MEDIUM', confidenceSet: 'TENTATIVE', isRelative: true, electronVersionOverride: require('electron/package.json').version });
  console.log = quiet;
  const findings = result.issues.filter((i) => i.severity.value >= 2);
  const broken = result.errors.filter((e) => !e.tolerable);
  for (const e of broken) quiet(`${e.file}: could not be parsed: ${e.message}`);
  for (const i of findings) quiet(`${i.file}:${i.location.line}:${i.location.column} ${i.id} (${i.severity.name}, ${i.confidence.name}) ${i.description} ${i.shortenedURL}`);
  failed = findings.length > 0 || broken.length > 0;
  quiet(`electronegativity electron/ renderer/: ${result.atomicChecks + result.globalChecks} checks, ${findings.length} finding(s) of medium severity or above, ${broken.length} unparsed file(s)`);
} finally {
  console.log = quiet;
  await rm(input, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
