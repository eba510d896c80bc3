import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const start = fileURLToPath(new URL('../../../build/scripts/start.mjs', import.meta.url));

describe('npm start without the Electron binary', () => {
  it.each([['npm start', []], ['npm run demo', ['--demo']]] as const)('%s says in one paragraph what is missing and how to get it, exit 1, no stack trace', (_name, args) => {
    // An Electron folder that holds no binary: what a machine that could not download Electron looks like, whether or
    // not this machine has the binary.
    const empty = mkdtempSync(join(tmpdir(), 'kenv-no-electron-'));
    try {
      const run = spawnSync(process.execPath, [start, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: empty, ELECTRON_OVERRIDE_DIST_PATH: empty },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      const paragraph = run.stderr.trimEnd();
      expect(paragraph.split('\n')).toHaveLength(1);
      expect(paragraph).toMatch(/needs the Electron binary, and it is not on this machine/);
      expect(paragraph).toContain('node node_modules/electron/install.js');
      expect(paragraph).toContain('npx kenv --help');
      expect(paragraph).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
