// Bundles the `kenv` command (part of `npm run build`, after tsc has type-checked everything):
//   out/cli/kenv.cjs         the CLI's own code (electron/cli, electron/core, shared) in one CommonJS file
//   out/cli/frame-worker.js  the crypto worker thread, one ES module, beside it (frame-pool.ts finds it there)
//
// Why: loading tsc's output costs Node a resolution, a read and a link per module (~50 for a 1-byte encrypt),
// about a quarter of a cold start (issue 11). One CommonJS file costs one read and one compile; each module in it
// is still evaluated only when its command imports it (`await import(…)` becomes a lazy initialiser).
// Why CommonJS: esbuild's ES module output without code splitting hoists every npm import to the top of the file,
// so the AWS SDK would load for `kenv --help`; its CommonJS output keeps each `require` inside the module that
// needs it. npm packages stay outside the bundle and load as they did before, all but commander: every command
// needs it, and inlined it costs no resolution and no file reads (~5 % of `node -e 0` in instructions).
// bin/kenv.js `require`s the bundle: an ES module `import` of a CommonJS file would first scan all of it for
// export names.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, 'out', 'cli');

/** Bundled npm packages; every other bare import stays a `require`/`import` of node_modules (native code, the SDK). */
const BUNDLED_PACKAGES = new Set(['commander']);

/** @type {import('esbuild').Plugin} */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      const name = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path, external: true };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  plugins: [externalPackages],
  // Linked, not inline: Node never reads them unless asked (--enable-source-maps); coverage and debuggers do.
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'electron', 'cli', 'main.ts')],
    outfile: join(outdir, 'kenv.cjs'),
    format: 'cjs',
    // The sources are ES modules: keep their strict mode, and give `import.meta.url` (frame-pool.ts finds the
    // worker beside it; progress.ts makes a require) the bundle's own URL.
    define: { 'import.meta.url': '__kenvBundleUrl' },
    banner: { js: "'use strict';\nconst __kenvBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  build({
    ...common,
    entryPoints: [join(root, 'electron', 'core', 'crypto', 'frame-worker.ts')],
    outfile: join(outdir, 'frame-worker.js'),
    format: 'esm',
  }),
]);
