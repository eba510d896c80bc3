// npm run test:mutation [-- <module>…]: Stryker over each named module (all of test/mutation/modules.mjs when none),
// one after the other. Extra Stryker flags go after the names (e.g. `-- sync-plan --concurrency 2`).
import { spawnSync } from 'node:child_process';
import { MODULES } from './modules.mjs';

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-') && MODULES[a]);
const flags = args.filter((a) => !names.includes(a));
let failed = 0;
for (const name of names.length ? names : Object.keys(MODULES)) {
  console.log(`\n=== mutation testing: ${name} ===`);
  const r = spawnSync('npx', ['stryker', 'run', ...flags], { stdio: 'inherit', env: { ...process.env, KENV_MUTATION_MODULE: name } });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
