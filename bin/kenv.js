#!/usr/bin/env node
// The `kenv` command: the CLI bundled into one file by `npm run build` (build/scripts/build-cli.mjs says why).
// `require`, not `import`: importing a CommonJS file makes Node scan all of it for export names first.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const BUNDLE = '../out/cli/kenv.cjs';
const require = createRequire(import.meta.url);
let cli;
try {
  cli = require(BUNDLE);
} catch (e) {
  if (e?.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(BUNDLE)) throw e;
  process.stderr.write(`kenv: this checkout is not built yet: run npm run build in ${fileURLToPath(new URL('..', import.meta.url))} first.\n`);
  process.exit(1);
}
await cli.main();
