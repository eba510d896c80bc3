/** istanbul's coverage of one file, as coverage-final.json holds it (the fields coverage-merge.mjs reads). */
export interface FileCoverageData {
  path: string;
  statementMap: Record<string, { start: { line: number; column: number | null }; end: { line: number; column: number | null } }>;
  s: Record<string, number>;
  fnMap: Record<string, { name: string; decl: { start: { line: number; column: number | null }; end: { line: number; column: number | null } }; loc: unknown; line: number }>;
  f: Record<string, number>;
  branchMap: Record<string, { type: string; loc: { start: { line: number; column: number | null }; end: { line: number; column: number | null } }; locations: unknown[]; line: number }>;
  b: Record<string, number[]>;
}
export function mergeFile(a: FileCoverageData, b: FileCoverageData): void;
export function mergeInto(into: Record<string, FileCoverageData>, data: Record<string, FileCoverageData>): void;
export function addHits(a: FileCoverageData, b: FileCoverageData): void;
