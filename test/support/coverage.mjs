// npm run coverage [-- <vitest args>]: line and branch coverage of everything the tests run, in one report.
//
// - Code the test processes run: Vitest's V8 coverage (coverage/vitest/coverage-final.json).
// - Code that runs in child processes and worker threads (the bundled CLI in out/cli/ that test/support/cli.ts
//   spawns, the crypto frame workers): NODE_V8_COVERAGE makes each of them write raw V8 coverage; c8 maps it
//   through the source maps of out/ back to the .ts sources (coverage/children/coverage-final.json).
// Both are merged (coverage/coverage-final.json) and summed per folder (coverage/folders.md, printed too).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const libCoverage = require('istanbul-lib-coverage');
const root = resolve(import.meta.dirname, '../..');
const out = join(root, 'coverage');
const raw = join(out, '.v8');
rmSync(out, { recursive: true, force: true });
mkdirSync(raw, { recursive: true });

const vitest = spawnSync(
  'npx',
  ['vitest', 'run', '--coverage.enabled', '--coverage.reportOnFailure', '--coverage.provider=v8', '--coverage.reporter=json', `--coverage.reportsDirectory=${join(out, 'vitest')}`,
    '--coverage.include=electron/**/*.ts', '--coverage.include=shared/**/*.ts', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_V8_COVERAGE: raw } },
);
const children = spawnSync(
  'npx',
  ['c8', 'report', `--temp-directory=${raw}`, '--reporter=json', `--report-dir=${join(out, 'children')}`, '--all=false',
    '--include=out/electron/**', '--include=out/cli/**', '--include=electron/core/crypto/frame-worker.ts', '--exclude-after-remap=false'],
  { cwd: root, stdio: 'inherit' },
);

const map = libCoverage.createCoverageMap({});
for (const part of ['vitest', 'children']) {
  try {
    const data = JSON.parse(readFileSync(join(out, part, 'coverage-final.json'), 'utf8'));
    for (const [file, fc] of Object.entries(data)) {
      // Keep the TypeScript sources only (c8 may leave a file unmapped when its source map is missing).
      const rel = relative(root, file);
      if (!/^(electron|shared)\/.*\.ts$/.test(rel)) continue;
      map.merge({ [file]: fc });
    }
  } catch (e) {
    console.error(`coverage: no ${part} report (${e instanceof Error ? e.message : e})`);
  }
}
writeFileSync(join(out, 'coverage-final.json'), JSON.stringify(map.toJSON()));

/** The folder a file's figures are summed under: electron/core/<area>, electron/<layer>, shared. */
function folderOf(rel) {
  const parts = rel.split('/');
  if (parts[0] === 'electron' && parts[1] === 'core') return parts.length > 3 ? parts.slice(0, 3).join('/') : 'electron/core (top level)';
  return parts[0] === 'electron' ? parts.slice(0, 2).join('/') : parts[0];
}
const folders = new Map();
for (const file of map.files()) {
  const key = folderOf(relative(root, file));
  const sum = folders.get(key) ?? libCoverage.createCoverageSummary();
  sum.merge(map.fileCoverageFor(file).toSummary());
  folders.set(key, sum);
}
const total = libCoverage.createCoverageSummary();
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([folder, s]) => {
  total.merge(s);
  return `| ${folder} | ${s.lines.pct} % | ${s.branches.pct} % |`;
});
const table = ['| Folder | Lines | Branches |', '| --- | ---: | ---: |', ...rows, `| **all** | ${total.lines.pct} % | ${total.branches.pct} % |`].join('\n');
writeFileSync(join(out, 'folders.md'), `${table}\n`);
console.log(`\n${table}\n`);
process.exit(vitest.status || children.status || 0);
