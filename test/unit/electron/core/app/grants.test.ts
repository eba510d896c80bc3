import { mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { grantDropped, Grants } from '../../../../../electron/core/app/grants.js';

let root: string;
let grants: Grants;

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'kenv-grants-')));
  await mkdir(join(root, 'given', 'deep'), { recursive: true });
  await mkdir(join(root, 'other'));
  await writeFile(join(root, 'given', 'a.txt'), 'a');
  await writeFile(join(root, 'given', 'deep', 'b.txt'), 'b');
  await writeFile(join(root, 'other', 'secret.txt'), 's');
  await writeFile(join(root, 'given-sibling.txt'), 'x');
  grants = new Grants();
});

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);

describe('Grants', () => {
  it('nothing is granted at first', async () => {
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('a granted folder grants what is inside it, at any depth, and nothing beside it', async () => {
    expect(await grants.grant(join(root, 'given'), 'drop')).toBe(join(root, 'given'));
    expect(await grants.require(join(root, 'given', 'deep', 'b.txt'), 'read')).toBe(join(root, 'given', 'deep', 'b.txt'));
    expect(await grants.require(join(root, 'given'), 'write-into')).toBe(join(root, 'given'));
    expect(await code(grants.require(join(root, 'given-sibling.txt'), 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(root, 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(join(root, 'given', '..', 'other', 'secret.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('a granted file grants that file only, not its folder', async () => {
    await grants.grant(join(root, 'given', 'a.txt'), 'dialog');
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'read'))).toBe('ok');
    expect(await code(grants.require(join(root, 'given'), 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(join(root, 'given'), 'write-into'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(join(root, 'given', 'deep', 'b.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('compares real paths: links out of a granted folder are refused, a link to a granted file is that file', async () => {
    await symlink(join(root, 'other', 'secret.txt'), join(root, 'given', 'link-out'));
    await symlink(join(root, 'other'), join(root, 'given', 'folder-out'));
    await symlink(join(root, 'given', 'a.txt'), join(root, 'link-in'));
    await grants.grant(join(root, 'given'), 'drop');
    expect(await code(grants.require(join(root, 'given', 'link-out'), 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(join(root, 'given', 'folder-out', 'secret.txt'), 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(join(root, 'given', 'folder-out'), 'write-into'))).toBe('NOT_ALLOWED');
    expect(await grants.require(join(root, 'link-in'), 'read')).toBe(join(root, 'given', 'a.txt'));
  });

  it('a dropped link grants what it points to, not the link', async () => {
    await symlink(join(root, 'other'), join(root, 'dropped-link'));
    expect(await grants.grant(join(root, 'dropped-link'), 'drop')).toBe(join(root, 'other'));
    // Repointing the link afterwards does not move the grant.
    await rm(join(root, 'dropped-link'));
    await symlink(root, join(root, 'dropped-link'));
    expect(await code(grants.require(join(root, 'dropped-link', 'given-sibling.txt'), 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require(join(root, 'other', 'secret.txt'), 'read'))).toBe('ok');
  });

  it('a granted file that has gone since is reported as missing; an ungranted missing file as not allowed', async () => {
    await grants.grant(join(root, 'given'), 'drop');
    await rename(join(root, 'given', 'a.txt'), join(root, 'given', 'moved.txt'));
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'read'))).toBe('INPUT_NOT_FOUND');
    expect(await code(grants.require(join(root, 'other', 'nothing.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('never resolves a relative path against the working folder, to grant or to check', async () => {
    expect(await grants.grant('.', 'drop')).toBeUndefined();
    expect(await code(grants.require(process.cwd(), 'read'))).toBe('NOT_ALLOWED');
    await grants.grant(process.cwd(), 'drop');
    expect(await code(grants.require('.', 'read'))).toBe('NOT_ALLOWED');
    expect(await code(grants.require('package.json', 'read'))).toBe('NOT_ALLOWED');
  });

  it('a path that did not exist when it was handed over is not granted, even once it exists', async () => {
    expect(await grants.grant(join(root, 'later.txt'), 'drop')).toBeUndefined();
    expect(await code(grants.require(join(root, 'later.txt'), 'read'))).toBe('NOT_ALLOWED');
    await writeFile(join(root, 'later.txt'), 'l');
    expect(await code(grants.require(join(root, 'later.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('keeps every grant: a second folder dropped does not replace the first', async () => {
    await grants.grant(join(root, 'given'), 'drop');
    await grants.grant(join(root, 'other'), 'drop');
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'read'))).toBe('ok');
    expect(await code(grants.require(join(root, 'other', 'secret.txt'), 'read'))).toBe('ok');
  });

  it('a granted file replaced by a folder grants nothing inside that folder', async () => {
    await grants.grant(join(root, 'given-sibling.txt'), 'drop');
    await rm(join(root, 'given-sibling.txt'));
    await mkdir(join(root, 'given-sibling.txt'));
    await writeFile(join(root, 'given-sibling.txt', 'inner.txt'), 'i');
    expect(await code(grants.require(join(root, 'given-sibling.txt', 'inner.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('a path granted as a file, then handed over again once it has become a folder, grants that folder', async () => {
    const path = join(root, 'given-sibling.txt');
    expect(await grants.grant(path, 'dialog')).toBe(path);
    expect(await code(grants.require(path, 'write-into'))).toBe('NOT_ALLOWED');
    await rm(path);
    await mkdir(path);
    await writeFile(join(path, 'inner.txt'), 'i');
    expect(await grants.grant(path, 'dialog')).toBe(path);
    expect(await grants.require(path, 'write-into')).toBe(path);
    expect(await grants.require(join(path, 'inner.txt'), 'read')).toBe(join(path, 'inner.txt'));
  });

  it('refuses relative paths and paths with NUL, and grants nothing for them', async () => {
    expect(await grants.grant('given', 'drop')).toBeUndefined();
    expect(await grants.grant(`${root}\0`, 'drop')).toBeUndefined();
    await grants.grant(join(root, 'given'), 'drop');
    expect(await code(grants.require('given/a.txt', 'read'))).toBe('NOT_ALLOWED');
  });

  it('the vault folder must come from a folder dialog; the OS opens only finished outputs', async () => {
    await grants.grant(join(root, 'given'), 'drop');
    expect(await code(grants.require(join(root, 'given'), 'vault-folder'))).toBe('NOT_ALLOWED');
    await grants.grant(join(root, 'other'), 'dialog');
    expect(await code(grants.require(join(root, 'other'), 'vault-folder'))).toBe('ok');
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'open-with-os'))).toBe('NOT_ALLOWED');
    await grants.grant(join(root, 'given', 'a.txt'), 'job-output');
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'open-with-os'))).toBe('ok');
    expect(await code(grants.require(join(root, 'given', 'deep', 'b.txt'), 'open-with-os'))).toBe('NOT_ALLOWED');
  });

  it('the not-allowed sentence names the file and says how to hand it over', async () => {
    await expect(grants.require(join(root, 'other', 'secret.txt'), 'read')).rejects.toThrow(/secret\.txt.*Drop the file or folder on the window/);
    await expect(grants.require(root, 'write-into')).rejects.toThrow(/Save to a folder/);
    await expect(grants.require(root, 'vault-folder')).rejects.toThrow(`The vault folder must be chosen with "Choose folder…", and ${root} was not. Choose the folder again.`);
    await expect(grants.require(join(root, 'other', 'secret.txt'), 'open-with-os')).rejects.toThrow(
      'Kenv opens only files it decrypted in this session, and secret.txt is not one of them. Open it from the file manager instead.',
    );
    await expect(grants.require('/', 'read')).rejects.toThrow(/and \/ is not one of them/);
  });

  it('a file is no place to save into, even inside a granted folder', async () => {
    await grants.grant(join(root, 'given'), 'dialog');
    await expect(grants.require(join(root, 'given', 'a.txt'), 'write-into')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', message: `${join(root, 'given', 'a.txt')} is not a folder. Choose a folder to save files in.`,
    });
    expect(await grants.require(join(root, 'given', 'deep'), 'write-into')).toBe(join(root, 'given', 'deep'));
    expect(await grants.require(join(root, 'given', 'deep'), 'vault-folder')).toBe(join(root, 'given', 'deep'));
  });

  it('a granted file that has gone says where it was, as it was given', async () => {
    await symlink(join(root, 'given'), join(root, 'link'));
    await grants.grant(join(root, 'link', 'a.txt'), 'drop');
    await rm(join(root, 'given', 'a.txt'));
    await expect(grants.require(join(root, 'link', 'a.txt'), 'read')).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND', message: `a.txt no longer exists at ${join(root, 'link', 'a.txt')}. Check the file and drop it again.`,
    });
    // Whichever grant covers it, among others.
    await grants.grant(join(root, 'other'), 'drop');
    await expect(grants.require(join(root, 'link', 'a.txt'), 'read')).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
    // A file in the same folder that was never granted is not reported as gone.
    expect(await code(grants.require(join(root, 'link', 'never.txt'), 'read'))).toBe('NOT_ALLOWED');
  });

  it('a grant for one purpose does not serve another: a dropped file is not an output to open', async () => {
    await grants.grant(join(root, 'given', 'a.txt'), 'drop');
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'open-with-os'))).toBe('NOT_ALLOWED');
    await grants.grant(join(root, 'given'), 'dialog');
    await expect(grants.require(join(root, 'given', 'a.txt'), 'vault-folder')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await grants.grant(join(root, 'given', 'a.txt'), 'job-output');
    expect(await code(grants.require(join(root, 'given', 'a.txt'), 'open-with-os'))).toBe('ok');
    await grants.grant(join(root, 'given'), 'job-output');
    expect(await code(grants.require(join(root, 'given', 'deep', 'b.txt'), 'open-with-os'))).toBe('NOT_ALLOWED');
    expect(await grants.allows(join(root, 'given', 'deep', 'b.txt'), 'read')).toBe(true);
    expect(await grants.allows(join(root, 'other'), 'read')).toBe(false);
  });
});

describe('grantDropped', () => {
  it('grants the real paths it is given, skipping empty, relative and missing ones', async () => {
    expect(await grantDropped(grants, ['', 'rel', join(root, 'nope'), join(root, 'given'), join(root, 'given')])).toEqual({ ok: true, value: [join(root, 'given')] });
    expect(await grants.allows(join(root, 'given', 'a.txt'), 'read')).toBe(true);
  });

  it('takes up to 10,000 paths of up to 4,096 characters', async () => {
    const long = `/${'n'.repeat(4095)}`;
    expect(await grantDropped(grants, [long, ...Array.from({ length: 9_998 }, () => ''), join(root, 'given')])).toEqual({ ok: true, value: [join(root, 'given')] });
    expect(await grantDropped(grants, Array.from({ length: 10_001 }, () => ''))).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST', message: expect.stringContaining('malformed drop') } });
  });

  it.each([['not a list', 'x'], ['numbers', [1]], ['a number among paths', ['', 1]], ['a long path among paths', ['/a', `/${'x'.repeat(4096)}`]], ['something with a length', [{ length: 1 }]], ['an object', { path: '/' }], ['a huge path', ['/'.repeat(5000)]]])('refuses %s as malformed', async (_name, payload) => {
    expect(await grantDropped(grants, payload)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  });
});
