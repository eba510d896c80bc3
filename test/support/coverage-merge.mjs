// How test/support/coverage.mjs merges istanbul coverage of one source file from several converters and processes:
// Vitest's workers, the kenv processes (the CLI bundle in out/cli/, tsc's output for the rest) and the renderer pages.
// Apart from coverage.mjs so that test/unit/support/coverage-merge.test.ts can hold it to what it counts.

const at = (p) => `${p.line}:${p.column}`;

/**
 * Adds `b`'s counts to `a` (istanbul file coverage of one source). Statements, functions and branches are matched by
 * where they start (and a branch by its type too): two converters agree on starts, not on ends.
 */
export function mergeFile(a, b) {
  const index = (map, key) => new Map(Object.entries(map).map(([id, v]) => [key(v), id]));
  const add = (mapName, hitsName, key, combine) => {
    const known = index(a[mapName], key);
    let next = Object.keys(a[mapName]).length;
    for (const [id, v] of Object.entries(b[mapName])) {
      const mine = known.get(key(v));
      if (mine === undefined) {
        const fresh = String(next++);
        a[mapName][fresh] = v;
        a[hitsName][fresh] = b[hitsName][id];
        known.set(key(v), fresh);
      } else a[hitsName][mine] = combine(a[hitsName][mine], b[hitsName][id]);
    }
  };
  add('statementMap', 's', (v) => at(v.start), (x, y) => x + y);
  add('fnMap', 'f', (v) => at(v.decl.start), (x, y) => x + y);
  add('branchMap', 'b', (v) => `${v.type}@${at(v.loc.start)}`, (x, y) => Array.from({ length: Math.max(x.length, y.length) }, (_, i) => (x[i] ?? 0) + (y[i] ?? 0)));
}

/** Merges a file → coverage object into `into`, file by file. */
export function mergeInto(into, data) {
  for (const [file, fc] of Object.entries(data)) {
    const { path: _path, ...rest } = fc;
    if (!into[file]) into[file] = structuredClone({ ...rest, path: file });
    else mergeFile(into[file], fc);
  }
}

/**
 * Adds the hits of `b`, a kenv process's coverage of a file, to `a`, Vitest's coverage of the same file, whose
 * statements, functions and branches stay the ones counted.
 *
 * The CLI bundle is not the file Vitest converts: esbuild wraps each module in a lazy initializer whose
 * `var init_x = __esm(…)`, `import_x = require(…)` and `init_y()` map to the file's first and import lines, and
 * turns a top-level `const x = …` into an assignment that starts at `x`. Counted as statements of their own, those
 * made the figure depend on which parts ran a kenv process: a part whose kenv processes never entered a module counted
 * its import lines as lines not run (rewrap read 84.8 % instead of 94.3 %), and a part whose processes did counted
 * them as lines run. So a hit lands on Vitest's statement (function, branch) with the same start; failing that, on
 * its statement nearest in column on the same line (for branches: of the same type and arity); and is dropped where
 * Vitest has none on that line, as Vitest itself does not count import lines.
 */
export function addHits(a, b) {
  const add = (mapName, hitsName, key, pos, fits, combine) => {
    const byKey = new Map(Object.entries(a[mapName]).map(([id, v]) => [key(v), id]));
    const byLine = new Map();
    for (const [id, v] of Object.entries(a[mapName])) byLine.set(pos(v).line, [...(byLine.get(pos(v).line) ?? []), id]);
    for (const [id, v] of Object.entries(b[mapName])) {
      let mine = byKey.get(key(v));
      if (mine === undefined) {
        const column = pos(v).column ?? 0;
        const near = (byLine.get(pos(v).line) ?? []).filter((m) => fits(a[mapName][m], v, a[hitsName][m], b[hitsName][id]));
        mine = near.sort((x, y) => Math.abs((pos(a[mapName][x]).column ?? 0) - column) - Math.abs((pos(a[mapName][y]).column ?? 0) - column))[0];
      }
      if (mine !== undefined) a[hitsName][mine] = combine(a[hitsName][mine], b[hitsName][id]);
    }
  };
  add('statementMap', 's', (v) => at(v.start), (v) => v.start, () => true, (x, y) => x + y);
  add('fnMap', 'f', (v) => at(v.decl.start), (v) => v.decl.start, () => true, (x, y) => x + y);
  add('branchMap', 'b', (v) => `${v.type}@${at(v.loc.start)}`, (v) => v.loc.start, (m, v, mh, vh) => m.type === v.type && mh.length === vh.length,
    (x, y) => Array.from({ length: Math.max(x.length, y.length) }, (_, i) => (x[i] ?? 0) + (y[i] ?? 0)));
}
