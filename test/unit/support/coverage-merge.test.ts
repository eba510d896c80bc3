// What `npm run coverage` counts when a file is described by Vitest's converter and by a kenv process running the CLI
// bundle (test/support/coverage-merge.mjs). The shapes are those of electron/core/rewrap/rewrap.ts in a run whose
// tests called rewrapFile in-process while no kenv process entered the module.
import libCoverage from 'istanbul-lib-coverage';
import { describe, expect, it } from 'vitest';
import { addHits, type FileCoverageData } from '../../support/coverage-merge.mjs';

const file = '/repo/electron/core/rewrap/rewrap.ts';

function coverage(statements: [line: number, column: number, hits: number][], branches: [type: string, line: number, column: number, hits: number[]][] = []): FileCoverageData {
  const data: FileCoverageData = { path: file, statementMap: {}, s: {}, fnMap: {}, f: {}, branchMap: {}, b: {} };
  statements.forEach(([line, column, hits], i) => {
    data.statementMap[i] = { start: { line, column }, end: { line, column: null } };
    data.s[i] = hits;
  });
  branches.forEach(([type, line, column, hits], i) => {
    const loc = { start: { line, column }, end: { line, column: null } };
    data.branchMap[i] = { type, loc, locations: hits.map(() => loc), line };
    data.b[i] = hits;
  });
  return data;
}

/** Line → hits, as the README's table counts lines. */
function lines(data: FileCoverageData): Record<string, number> {
  return libCoverage.createFileCoverage(data as unknown as libCoverage.FileCoverageData).getLineCoverage();
}

// Vitest: `const COPY_CHUNK = 1024 * 1024` (its statement starts at the value) and line 172's `if` and `throw`; import
// lines are not statements.
const vitest = () => coverage([[39, 19, 2], [172, 4, 12], [172, 36, 0]]);
// The bundle: `var init_rewrap = __esm(…)` mapped to line 1 (run at every start of kenv), `import_x = require(…)` and
// `init_y()` mapped to the import lines 2-12, `COPY_CHUNK = 1024 * 1024` starting at the name, and line 172 unrun.
const bundle = (importHits = 0, constantHits = 0) =>
  coverage([[1, 0, 52], ...Array.from({ length: 11 }, (_, i): [number, number, number] => [i + 2, 0, importHits]), [39, 6, constantHits], [172, 4, 0], [172, 36, 0]]);

describe('coverage merge (addHits)', () => {
  it("counts Vitest's lines only: the bundle's module wrapper and import lines are not lines not run", () => {
    const merged = vitest();
    addHits(merged, bundle());
    expect(lines(merged)).toEqual({ 39: 2, 172: 12 });
    expect(Object.keys(merged.statementMap)).toHaveLength(3);
  });

  it('gives the same lines whether or not a kenv process entered the module', () => {
    const run = vitest();
    addHits(run, bundle(7, 7));
    expect(Object.keys(lines(run))).toEqual(['39', '172']);
    expect(lines(run)[39]).toBe(9);
  });

  it("credits a kenv process's statement to Vitest's statement on the same line when their starts differ", () => {
    const merged = coverage([[39, 19, 0]]);
    addHits(merged, coverage([[39, 6, 5]]));
    expect(lines(merged)).toEqual({ 39: 5 });
    expect(merged.s).toEqual({ 0: 5 });
  });

  it('adds branch hits by start, else to a branch of the same type and arity on the same line, else not at all', () => {
    const merged = coverage([], [['if', 50, 4, [1, 0]], ['binary-expr', 60, 10, [0, 0]]]);
    addHits(merged, coverage([], [['if', 50, 4, [0, 3]], ['binary-expr', 60, 12, [2, 0]], ['cond-expr', 60, 12, [1, 1]], ['if', 70, 0, [1, 1]]]));
    expect(merged.b).toEqual({ 0: [1, 3], 1: [2, 0] });
    expect(Object.keys(merged.branchMap)).toHaveLength(2);
  });
});
