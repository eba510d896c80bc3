import { mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyIndex, indexPath, loadIndex, readIndex, saveIndex } from '../../../../../electron/core/sync/index-store.js';
import { lockVault } from '../../../../../electron/core/sync/lock.js';
import { isSafeVaultPath, toSyncError } from '../../../../../electron/core/sync/remote.js';
import { foldName } from '../../../../../electron/core/sync/names.js';
import { isLocalNameTaken, scanVault } from '../../../../../electron/core/sync/scan.js';
import { placeNew, vaultFolder } from '../../../../../electron/core/sync/vault-fs.js';
import { MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE, choosePartSize, taggedPath } from '../../../../../electron/core/sync/transfer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-sync-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('choosePartSize', () => {
  it('uses 8 MiB parts up to 80,000 MiB', () => {
    expect(choosePartSize(0)).toBe(MIN_PART_SIZE);
    expect(choosePartSize(200 * 1024 * 1024)).toBe(MIN_PART_SIZE);
    expect(choosePartSize(MIN_PART_SIZE * MAX_PARTS)).toBe(MIN_PART_SIZE);
  });
  it('fits any size up to 5 TiB in 10,000 whole-MiB parts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_OBJECT_SIZE }), (size) => {
        const part = choosePartSize(size);
        expect(part % (1024 * 1024)).toBe(0);
        expect(part).toBeGreaterThanOrEqual(MIN_PART_SIZE);
        expect(Math.ceil(size / part)).toBeLessThanOrEqual(MAX_PARTS);
      }),
    );
    expect(Math.ceil(MAX_OBJECT_SIZE / choosePartSize(MAX_OBJECT_SIZE))).toBeLessThanOrEqual(MAX_PARTS);
  });
});

describe('isSafeVaultPath', () => {
  it('accepts plain relative paths', () => {
    expect(isSafeVaultPath('a.kenv')).toBe(true);
    expect(isSafeVaultPath('team/q3/report.pdf.kenv')).toBe(true);
  });
  it.each([
    '../escape.kenv',
    'a/../../escape.kenv',
    '/etc/passwd.kenv',
    'a//b.kenv',
    './a.kenv',
    'a\\..\\b.kenv',
    'C:/x.kenv',
    '.kenv-sync/index.kenv',
    '.kenv-trash/x.kenv',
    '.KENV-SYNC/x.kenv',
    '.Kenv-Trash/x.kenv',
    '',
    'a/./b.kenv',
    'a/',
    'nul\u0000.kenv',
    'line\nbreak.kenv',
    'del\u007f.kenv',
    'x.kenv:stream.kenv',
    'd:x.kenv',
    'what?.kenv',
    'a|b.kenv',
    'con.kenv',
    'docs/LPT1.txt.kenv',
    'aux',
    'trailing./x.kenv',
    'space /x.kenv',
    `${'n'.repeat(251)}.kenv`,
    `${'a/'.repeat(520)}x.kenv`,
  ])('refuses %j', (path) => {
    expect(isSafeVaultPath(path)).toBe(false);
  });
  it('counts the prefix in the 1,024 bytes of a key', () => {
    const path = `${'a'.repeat(200)}/${'b'.repeat(200)}/x.kenv`;
    expect(isSafeVaultPath(path)).toBe(true);
    expect(isSafeVaultPath(path, `${'p'.repeat(700)}/`)).toBe(false);
  });
  it('accepts names with spaces, dots, non-ASCII letters and Kenv-like names below the root', () => {
    for (const ok of ['Q3 report (final).pdf.kenv', 'ünïcödé/日本.kenv', 'a/.kenv-sync/x.kenv', 'console.kenv', '.hidden.kenv']) {
      expect(isSafeVaultPath(ok)).toBe(true);
    }
  });
  it('folds names that are one file on macOS and Windows', () => {
    expect(foldName('Report.KENV')).toBe(foldName('report.kenv'));
    expect(foldName('caf\u00e9.kenv')).toBe(foldName('cafe\u0301.kenv'));
  });
});

describe('vaultFolder', () => {
  it('creates real folders inside the vault and refuses any link on the way, even one pointing inside', async () => {
    expect(await vaultFolder(dir, 'a/b', true)).toBe(join(await realpath(dir), 'a', 'b'));
    const outside = await mkdtemp(join(tmpdir(), 'kenv-outside-'));
    try {
      await symlink(outside, join(dir, 'out'), 'dir');
      await symlink(join(dir, 'a'), join(dir, 'in'), 'dir');
      await expect(vaultFolder(dir, 'out/x', true)).rejects.toMatchObject({ code: 'SYNC_UNSAFE_PATH' });
      await expect(vaultFolder(dir, 'in/b', false)).rejects.toMatchObject({ code: 'SYNC_UNSAFE_PATH' });
      await writeFile(join(dir, 'file'), 'x');
      await expect(vaultFolder(dir, 'file/x', true)).rejects.toMatchObject({ code: 'SYNC_UNSAFE_PATH' });
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
  it('never replaces a file that appeared at a new name', async () => {
    await writeFile(join(dir, 'tmp'), 'new');
    await writeFile(join(dir, 'dest'), 'there first');
    await expect(placeNew(join(dir, 'tmp'), join(dir, 'dest'))).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(dir, 'dest'), 'utf8')).toBe('there first');
  });
});

describe('toSyncError', () => {
  it('maps S3 and network errors to codes that say what to do', () => {
    const named = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(toSyncError(named('PreconditionFailed', 412), 'a.kenv').code).toBe('SYNC_REMOTE_CHANGED');
    expect(toSyncError(named('AccessDenied', 403), 'a.kenv').code).toBe('S3_ACCESS_DENIED');
    expect(toSyncError(named('NoSuchBucket', 404), 'a.kenv').code).toBe('S3_NO_SUCH_BUCKET');
    expect(toSyncError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', syscall: 'connect' }), 'x').code).toBe('NETWORK_REFUSED');
    expect(toSyncError(named('InternalError', 500), 'a.kenv').code).toBe('S3_ERROR');
    expect(toSyncError(named('AbortError'), 'x').code).toBe('CANCELLED');
  });
  it('tells vault file-system errors from S3 ones', () => {
    const fsError = (syscall: string, code: string) => Object.assign(new Error(`${code}: ${syscall}`), { syscall, code });
    expect(toSyncError(fsError('scandir', 'EACCES'), 'scanning').code).toBe('INPUT_UNREADABLE');
    expect(toSyncError(fsError('rename', 'EXDEV'), 'a.kenv').code).toBe('OUTPUT_FAILED');
    expect(toSyncError(fsError('write', 'ENOSPC'), 'a.kenv').message).toMatch(/free space/);
  });
});

describe('taggedPath', () => {
  it('names a conflict copy with the UTC date and time, numbering clashes', async () => {
    const now = new Date(Date.UTC(2026, 10, 23, 9, 5, 7));
    expect(await taggedPath(dir, 'sub/doc.kenv', 'conflict', now)).toBe('sub/doc (conflict 2026-11-23 090507).kenv');
    await writeFile(join(dir, 'doc (conflict 2026-11-23 090507).kenv'), '');
    expect(await taggedPath(dir, 'doc.kenv', 'conflict', now)).toBe('doc (conflict 2026-11-23 090507 2).kenv');
  });
});

describe('index store', () => {
  it('round-trips, and ignores an index written for another remote or damaged', async () => {
    const index = emptyIndex('s3://b/p/');
    index.entries['a.kenv'] = { path: 'a.kenv', size: 1, mtimeMs: 2, etag: 'e', sha256: 's' };
    await saveIndex(dir, index);
    expect(await loadIndex(dir, 's3://b/p/')).toEqual(index);
    expect(await loadIndex(dir, 's3://b/other/')).toEqual(emptyIndex('s3://b/other/'));
    await writeFile(indexPath(dir), '{"version":1,"remote":"s3://b/p/","entr');
    expect(await loadIndex(dir, 's3://b/p/')).toEqual(emptyIndex('s3://b/p/'));
  });
  it('reads back exactly the text it wrote, names beyond ASCII across read chunks included (a no-op sync compares it)', async () => {
    const index = emptyIndex('s3://b/p/');
    // ~3 MB of two-, three- and four-byte characters: multi-byte sequences fall on every read boundary.
    for (let i = 0; i < 20_000; i++) index.entries[`caf\u00e9/\u65e5\u672c-${i}-\u{1f511}.kenv`] = { path: `caf\u00e9/${i}`, size: i, mtimeMs: i, etag: 'e', sha256: 's' };
    await saveIndex(dir, index);
    const read = await readIndex(dir, 's3://b/p/');
    expect(read.text).toBe(JSON.stringify(index));
    expect(read.index).toEqual(index);
  });
  it('leaves no temporary file behind', async () => {
    await saveIndex(dir, emptyIndex('s3://b/'));
    await saveIndex(dir, emptyIndex('s3://b/'));
    expect(await readdir(join(dir, '.kenv-sync'))).toEqual(['index.json']);
  });
});

describe('lockVault', () => {
  it('lets one sync in at a time and releases', async () => {
    const release = await lockVault(dir);
    await expect(lockVault(dir)).rejects.toMatchObject({ code: 'SYNC_BUSY' });
    await release();
    await (await lockVault(dir))();
  });
  it('takes over a lock left by a process that is gone', async () => {
    const release = await lockVault(dir);
    const lock = JSON.parse(await readFile(join(dir, '.kenv-sync', 'lock'), 'utf8'));
    await writeFile(join(dir, '.kenv-sync', 'lock'), JSON.stringify({ ...lock, pid: 2 ** 22 + 12345 }));
    await (await lockVault(dir))();
    await release();
  });
});

describe('scanVault', () => {
  it('skips Kenv folders at the root, reports plaintext, and rehashes only changed files', async () => {
    await writeFile(join(dir, 'a.kenv'), 'AAAA');
    const hourAgo = (Date.now() - 3_600_000) / 1000;
    await utimes(join(dir, 'a.kenv'), hourAgo, hourAgo);
    await writeFile(join(dir, 'notes.txt'), 'plain');
    await rm(join(dir, '.kenv-sync'), { recursive: true, force: true });
    await saveIndex(dir, emptyIndex('s3://b/'));
    let checked = 0;
    const isKenv = async () => {
      checked++;
      return true;
    };
    const first = await scanVault(dir, {}, isKenv);
    expect([...first.files.keys()]).toEqual(['a.kenv']);
    expect(first.skipped).toEqual([{ path: 'notes.txt', reason: 'not-kenv' }]);
    const a = first.files.get('a.kenv')!;
    const second = await scanVault(dir, { 'a.kenv': { ...a, etag: 'e', sha256: 'from-index' } }, isKenv);
    expect(second.files.get('a.kenv')?.sha256).toBe('from-index');
    expect(checked).toBe(1);
    // Changed just now (a time the scan cannot be past yet, however slow the machine), and the index holds that time:
    // its size and time cannot vouch for a write in the same tick of the file system's clock, so it is read again
    // (and marked, so that the index records it smudged).
    const soon = Date.now() / 1000 + 30.5;
    await utimes(join(dir, 'a.kenv'), soon, soon);
    const justNow = (await scanVault(dir, {}, isKenv)).files.get('a.kenv')!;
    expect(justNow.racy).toBe(true);
    const third = await scanVault(dir, { 'a.kenv': { ...justNow, etag: 'e', sha256: 'from-index' } }, isKenv);
    expect(third.files.get('a.kenv')?.sha256).toBe(a.sha256);
    expect(checked).toBe(3);
  });
  it('reports links, special and unsafe names once and marks what they hold as taken', async () => {
    await writeFile(join(dir, 'a.kenv'), 'AAAA');
    await symlink(join(dir, 'a.kenv'), join(dir, 'link.kenv'));
    await symlink(dir, join(dir, 'loop'), 'dir');
    await mkdir(join(dir, 'C:'));
    await writeFile(join(dir, 'C:', 'x.kenv'), 'X');
    await mkdir(join(dir, 'folder.kenv'));
    const scan = await scanVault(dir, {}, async () => true);
    expect([...scan.files.keys()]).toEqual(['a.kenv']);
    expect(scan.skipped).toEqual([
      expect.objectContaining({ path: 'C:', reason: 'unsafe-name' }),
      { path: 'link.kenv', reason: 'symlink' },
      { path: 'loop', reason: 'symlink' },
    ]);
    expect(isLocalNameTaken(scan, 'loop/a.kenv')).toBe('loop');
    expect(isLocalNameTaken(scan, 'link.kenv')).toBe('link.kenv');
    expect(isLocalNameTaken(scan, 'folder.kenv')).toBe('folder.kenv');
    expect(isLocalNameTaken(scan, 'folder.kenv/inside.kenv')).toBeUndefined();
    expect(isLocalNameTaken(scan, 'a.kenv')).toBeUndefined();
    expect(isLocalNameTaken(scan, 'new/b.kenv')).toBeUndefined();
  });
});
