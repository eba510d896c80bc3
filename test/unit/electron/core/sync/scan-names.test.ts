// Names whose bytes are not UTF-8 (Linux file systems take any bytes; S3 keys are UTF-8 text). Node reads such a
// name with U+FFFD in place of the bytes it cannot decode, and every call on the decoded name then fails as if the
// file were gone: the scan used to drop the file, or the whole folder, without a word, so a user believed it synced.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { NOT_UTF8, scanVault } from '../../../../../electron/core/sync/scan.js';
import { kenvMessage } from '../../../../support/kenv-fixtures.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-scan-names-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `dir` + the raw bytes of a name (a Buffer path keeps bytes that are not UTF-8). */
const rawPath = (...parts: (string | number[])[]) => Buffer.concat([Buffer.from(`${dir}/`), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))]);

// macOS and Windows refuse such names outright; Linux, where CI runs, keeps them.
it.runIf(process.platform === 'linux')('reports a file or folder whose name is not UTF-8 as skipped, holds its name, and scans the rest', async () => {
  const message = await kenvMessage('named badly');
  await writeFile(rawPath('caf', [0xe9], '.kenv'), message); // "café" in Latin-1
  await mkdir(rawPath('d', [0xff]));
  await writeFile(rawPath('d', [0xff], '/inside.kenv'), message);
  await writeFile(join(dir, 'fine.kenv'), message);
  // A real U+FFFD is valid UTF-8: that file is an ordinary one.
  await writeFile(join(dir, 'odd\uFFFD.kenv'), message);

  const scan = await scanVault(dir, {}, undefined);

  expect([...scan.files.keys()].sort()).toEqual(['fine.kenv', 'odd\uFFFD.kenv']);
  expect(scan.skipped.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
    { path: 'caf\uFFFD.kenv', reason: 'unsafe-name', detail: NOT_UTF8 },
    { path: 'd\uFFFD', reason: 'unsafe-name', detail: NOT_UTF8 },
  ]);
  // Held: an object on S3 under the decoded name is neither downloaded over them nor deleted.
  expect(scan.barriers.has('caf\uFFFD.kenv')).toBe(true);
  expect(scan.barriers.has('d\uFFFD')).toBe(true);
  expect(scan.unreadable).toEqual([]);
});
