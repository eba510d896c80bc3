// npm run coverage [-- --resume] [--only unit,e2e] [--files <filter,…> [--as <name>]]: line and branch coverage of
// everything the tests run, in one per-folder table. --files narrows a part to some test files; with --as the result
// is kept as a part of that name beside the others (new test files measured without running the rest again).
//
// Three kinds of process run product code, and each is measured:
// - the Vitest workers (the tests themselves): Vitest's V8 coverage;
// - the `kenv` processes the tests start (test/support/cli.ts) and their crypto worker threads: KENV_CHILD_V8_COVERAGE
//   tells the tests to give those children NODE_V8_COVERAGE, so only they write raw V8 data (a Vitest worker writing
//   its own would dump every script of Vitest, Vite and the AWS SDK, gigabytes per run);
// - the renderer in Chromium (test/e2e): KENV_BROWSER_COVERAGE makes the e2e harness keep each page's JS coverage.
// The raw data of the last two is converted with the converter Vitest uses (ast-v8-to-istanbul), through the source
// maps of out/ and of the Vite build, so that all three describe a .ts file with the same statements and branches.
// The statement and branch maps of two converters' outputs still differ in where a node ends (tsc and Vite map
// ends differently), and the CLI bundle has statements of its own (esbuild's module wrappers), so Vitest's maps are
// the ones counted and the other outputs' hits land on them by where each statement and branch starts (addHits and
// mergeFile in ./coverage-merge.mjs).
//
// The suite runs in parts (one Vitest run each, in turn), so a part that fails or a run that is stopped loses only
// that part: --resume keeps the parts already measured. Results: coverage/parts/<part>/*.json,
// coverage/coverage-final.json, and the per-folder table coverage/folders.md (printed too).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import astV8ToIstanbul from 'ast-v8-to-istanbul';
import { parseAstAsync } from 'vite';
import { addHits, mergeInto } from './coverage-merge.mjs';

const require = createRequire(import.meta.url);
const libCoverage = require('istanbul-lib-coverage');
const { mergeProcessCovs } = require('@bcoe/v8-coverage');
const root = resolve(import.meta.dirname, '../..');
const out = join(root, 'coverage');

/**
 * The suite in parts. electron/main is not measured: it imports `electron`, whose binary cannot run here (see
 * README, development); its tests run against a mocked `electron` and are counted, but the folder is left out of
 * the targets (EXCLUDED below).
 */
const PARTS = [
  { name: 'unit', args: ['--project', 'kenv', 'test/unit/', 'test/security/'] },
  { name: 'cli', args: ['--project', 'kenv', 'test/integration/cli'] },
  { name: 'kms', args: ['--project', 'kenv', 'test/integration/kms/', 'test/integration/local-kms/'] },
  {
    name: 'app',
    args: ['--project', 'kenv', ...['app', 'audit', 'preflight', 'verify', 'rewrap', 'import', 'keygen', 'secrets', 'keychain'].map((d) => `test/integration/${d}/`)],
  },
  { name: 'aws', args: ['--project', 'kenv', 'test/integration/aws/', 'test/integration/sso/', 'test/integration/esdk-interop', 'test/integration/key-kinds', 'test/integration/raw-rsa-interop'] },
  { name: 'sync-s3rver', args: ['--project', 's3rver'] },
  { name: 'sync-moto', args: ['--project', 'moto'] },
  { name: 'e2e', args: ['--project', 'kenv', 'test/e2e/'] },
];
/** Folders in the table but not held to the targets, with the reason the README gives. */
const EXCLUDED = new Map([
  ['electron/main', 'needs the Electron binary, which cannot be downloaded here; measured only against a mocked electron'],
]);

const argv = process.argv.slice(2);
const resume = argv.includes('--resume');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',')) : null;
const filesAt = argv.indexOf('--files');
const files = filesAt >= 0 ? (argv[filesAt + 1] ?? '').split(',') : null;
const asAt = argv.indexOf('--as');
const as = asAt >= 0 ? argv[asAt + 1] : undefined;
const extra = argv.filter((a, i) => a !== '--resume' && ![onlyAt, onlyAt + 1, filesAt, filesAt + 1, asAt, asAt + 1].includes(i));
if (!resume) rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** The product sources a coverage entry may name. */
function isProductSource(file) {
  return /^(electron|shared)\/.*\.ts$|^renderer\/src\/.*\.tsx?$/.test(relative(root, file));
}

/** Runs one part: Vitest with coverage, then the conversion of its children's and pages' raw data. */
async function runPart(part) {
  const dir = join(out, 'parts', as ?? part.name);
  const done = join(dir, 'status.json');
  if (resume && existsSync(done)) return JSON.parse(readFileSync(done, 'utf8'));
  // Another `--resume` run of this checkout is measuring this part now (parts may run side by side on more cores).
  if (resume && existsSync(join(dir, 'running'))) return { part: part.name, exit: 0, minutes: 0 };
  rmSync(dir, { recursive: true, force: true });
  const children = join(dir, 'children-v8');
  const pages = join(dir, 'pages');
  mkdirSync(children, { recursive: true });
  mkdirSync(pages, { recursive: true });
  // degrade.test.ts runs kenv as `nobody`, whose coverage must land here too.
  chmodSync(dir, 0o755);
  chmodSync(children, 0o777);
  writeFileSync(join(dir, 'running'), String(process.pid));
  const started = Date.now();
  console.log(`\ncoverage: part ${part.name} (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  // Under the private Secret Service, as `npm test` runs: without it the keychain tests of the `app` part fail.
  const vitest = spawnSync(
    'bash',
    [join(root, 'test/support/with-secret-service.sh'), process.execPath, join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--coverage.enabled', '--coverage.reportOnFailure', '--coverage.provider=v8',
      '--coverage.reporter=json', `--coverage.reportsDirectory=${join(dir, 'vitest')}`,
      '--coverage.include=electron/**/*.ts', '--coverage.include=shared/**/*.ts',
      // A measurement, not a speed check: on a loaded machine a test that runs out of its usual minute would be
      // counted as not having run at all.
      // Tests that set their own limit read it through timeLimit() (test/support/timeouts.ts), from KENV_TEST_TIMEOUT_MS.
      '--testTimeout=900000', '--hookTimeout=900000',
      ...(files ? [...part.args.slice(0, 2), ...files] : part.args), ...extra],
    // KENV_TEST_MANY_FILES: many-files.test.ts syncs 3,000 files instead of 10,000. Its ~75 s of CPU (s3rver, proxy,
    // SDK; coverage adds nothing measurable) did not fit in 15 minutes at a coverage run's load; 3,000 runs the same
    // statements and branches (whole listing pages, whole index saves, 100 folders), measured: see the README.
    {
      cwd: root,
      stdio: 'inherit',
      env: { KENV_TEST_MANY_FILES: '3000', ...process.env, KENV_CHILD_V8_COVERAGE: children, KENV_BROWSER_COVERAGE: pages, KENV_TEST_TIMEOUT_MS: '900000' },
    },
  );
  writeFileSync(join(dir, 'children.json'), JSON.stringify(await convertChildren(children)));
  writeFileSync(join(dir, 'pages.json'), JSON.stringify(await convertPages(pages)));
  rmSync(children, { recursive: true, force: true });
  rmSync(pages, { recursive: true, force: true });
  const status = { part: as ?? part.name, root, exit: vitest.status ?? vitest.signal, minutes: Math.round((Date.now() - started) / 6000) / 10 };
  writeFileSync(done, JSON.stringify(status));
  rmSync(join(dir, 'running'), { force: true });
  return status;
}

/** Converts one script's V8 function coverage through its source map into istanbul coverage of the original files. */
async function convert(code, map, url, functions) {
  try {
    const data = await astV8ToIstanbul({ code, sourceMap: map, ast: parseAstAsync(code), coverage: { functions, url } });
    return Object.fromEntries(Object.entries(data).filter(([file]) => isProductSource(file)));
  } catch (e) {
    console.error(`coverage: could not convert ${url} (${e instanceof Error ? e.message : e})`);
    return {};
  }
}

/**
 * The raw V8 files of the kenv processes (and their worker threads): only out/'s scripts (the CLI bundle in out/cli/,
 * tsc's output for the rest), merged, then converted through their source maps.
 */
async function convertChildren(rawDir) {
  const prefix = pathToFileURL(join(root, 'out')).href + '/';
  let merged = { result: [] };
  for (const name of readdirSync(rawDir)) {
    let raw;
    try {
      raw = JSON.parse(readFileSync(join(rawDir, name), 'utf8'));
    } catch {
      continue; // a process killed while writing leaves a truncated file
    }
    const result = raw.result.filter((s) => s.url.startsWith(prefix) && /\/out\/(electron|shared|cli)\//.test(s.url));
    if (result.length) merged = mergeProcessCovs([merged, { result }]);
  }
  const files = {};
  for (const script of merged.result) {
    const js = fileURLToPath(script.url);
    if (!existsSync(`${js}.map`)) continue;
    const map = JSON.parse(readFileSync(`${js}.map`, 'utf8'));
    map.sources = map.sources.map((s) => pathToFileURL(resolve(dirname(js), map.sourceRoot ?? '', s)).href);
    mergeInto(files, await convert(readFileSync(js, 'utf8'), map, script.url, script.functions));
  }
  return files;
}

/** The renderer pages' JS coverage kept by the e2e harness (test/support/browser-coverage.ts). */
async function convertPages(pagesDir) {
  const byScript = new Map();
  for (const name of readdirSync(pagesDir)) {
    for (const entry of JSON.parse(readFileSync(join(pagesDir, name), 'utf8'))) {
      const seen = byScript.get(entry.file);
      if (seen) seen.cov = mergeProcessCovs([seen.cov, { result: [{ scriptId: '0', url: entry.file, functions: entry.functions }] }]);
      else byScript.set(entry.file, { entry, cov: { result: [{ scriptId: '0', url: entry.file, functions: entry.functions }] } });
    }
  }
  const files = {};
  for (const { entry, cov } of byScript.values()) {
    const map = { ...entry.map, sources: entry.map.sources.map((s) => pathToFileURL(resolve(dirname(entry.file), entry.map.sourceRoot ?? '', s)).href) };
    mergeInto(files, await convert(entry.source, map, pathToFileURL(entry.file).href, cov.result[0].functions));
  }
  return files;
}

const statuses = [];
for (const part of PARTS) if (!only || only.has(part.name)) statuses.push(await runPart(part));

// Every part measured, including those added with --as. A part measured in another checkout of the same commit
// (its status names the root) has its paths moved here. Vitest's own data comes first: it describes every product
// file of electron/ and shared/, run or not, and its statements and branches are the ones counted (see addHits).
const measured = existsSync(join(out, 'parts')) ? readdirSync(join(out, 'parts')).sort() : [];
const all = {};
for (const kinds of [['vitest/coverage-final.json'], ['children.json', 'pages.json']]) {
  const reference = new Set(Object.keys(all));
  for (const name of measured) {
    const dir = join(out, 'parts', name);
    const from = existsSync(join(dir, 'status.json')) ? JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')).root ?? root : root;
    for (const kind of kinds) {
      const file = join(dir, kind);
      if (!existsSync(file)) continue;
      const data = JSON.parse(readFileSync(file, 'utf8'));
      for (const [f, fc] of Object.entries(data)) {
        const here = join(root, relative(from, f));
        if (!isProductSource(here)) continue;
        if (reference.has(here)) addHits(all[here], fc);
        else mergeInto(all, { [here]: fc });
      }
    }
  }
}
writeFileSync(join(out, 'coverage-final.json'), JSON.stringify(all));
const map = libCoverage.createCoverageMap(all);

/** The folder a file's figures are summed under: electron/core/<area>, electron/<layer>, shared, renderer. */
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
const mark = (folder, s) => (EXCLUDED.has(folder) ? ' (not held to the targets)' : s.lines.pct >= 85 && s.branches.pct >= 75 ? '' : ' ✗');
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([folder, s]) => {
  total.merge(s);
  return `| ${folder}${mark(folder, s)} | ${s.lines.pct} % (${s.lines.covered}/${s.lines.total}) | ${s.branches.pct} % (${s.branches.covered}/${s.branches.total}) |`;
});
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
const table = [
  '| Folder | Lines | Branches |', '| --- | ---: | ---: |', ...rows,
  `| **all** | ${total.lines.pct} % (${total.lines.covered}/${total.lines.total}) | ${total.branches.pct} % (${total.branches.covered}/${total.branches.total}) |`,
].join('\n');
const parts = [...new Set([...PARTS.map((p) => p.name), ...measured])].map((name) => {
  const file = join(out, 'parts', name, 'status.json');
  if (!existsSync(file)) return `${name}: not run`;
  const s = JSON.parse(readFileSync(file, 'utf8'));
  return `${name}: ${s.exit === 0 ? 'passed' : `exit ${s.exit}`}, ${s.minutes} min`;
});
const notes = [...EXCLUDED].map(([f, why]) => `${f}: ${why}.`);
const report = `${new Date().toISOString().slice(0, 10)}, commit ${commit}; parts: ${parts.join('; ')}\n\n${table}\n\n✗: below 85 % of lines or 75 % of branches. ${notes.join(' ')}\n`;
writeFileSync(join(out, 'folders.md'), report);
console.log(`\n${report}`);
process.exit(statuses.some((s) => s.exit !== 0) ? 1 : 0);
