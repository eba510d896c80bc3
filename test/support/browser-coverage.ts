import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/**
 * Keeps the page's JavaScript coverage when `npm run coverage` asks for it (KENV_BROWSER_COVERAGE, a folder), and
 * does nothing otherwise. Returns the function that stops and saves it: call it before the page closes.
 *
 * Each script the page ran from `dist` (the Vite build it was served) is saved with its source and source map, read
 * while they are still there: a later build may replace the folder. test/support/coverage.mjs converts them.
 */
export async function keepPageCoverage(page: Page, dist: string): Promise<() => Promise<void>> {
  const folder = process.env.KENV_BROWSER_COVERAGE;
  if (!folder) return async () => undefined;
  await page.coverage.startJSCoverage({ resetOnNavigation: false });
  return async () => {
    const entries = await page.coverage.stopJSCoverage();
    const kept = [];
    for (const entry of entries) {
      const path = new URL(entry.url).pathname;
      const file = join(dist, path);
      if (!path.endsWith('.js') || !existsSync(`${file}.map`) || entry.source === undefined) continue;
      kept.push({ file, source: entry.source, functions: entry.functions, map: JSON.parse(await readFile(`${file}.map`, 'utf8')) });
    }
    await writeFile(join(folder, `${randomUUID()}.json`), JSON.stringify(kept));
  };
}
