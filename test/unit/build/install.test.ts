import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm install where the Electron binary cannot be downloaded', () => {
  it("denies electron's postinstall (the download that failed the whole install), and npm reads that policy", () => {
    // Measured in a copy of the repository on this machine, with no access to Electron's download server: before,
    // `npm install` ended in electron's postinstall with ENOTFOUND github.com, exit 1, and npm removed node_modules;
    // with the policy it installs (623 packages, exit 0) and `npm start` prints the NO_ELECTRON paragraph.
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.electron).toBe(false);
    const ls = spawnSync('npm', ['install-scripts', 'ls'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(ls.status).toBe(0);
    expect(ls.stdout).toContain('No packages with unreviewed install scripts.');
  });
});
