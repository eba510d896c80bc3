// AtomicOutput's promises: the final name appears only on commit, with every byte; a name taken meanwhile is never
// replaced (unless forced); abort leaves nothing behind, however often it is called.
import { createHash, randomBytes } from 'node:crypto';
import { fstatSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicOutput, errnoCode, errnoText, exists, refuseExisting } from '../../../../electron/core/atomic-output.js';
import { livePartials } from '../../../../electron/core/partials.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeAll(out: AtomicOutput, chunks: Buffer[]): Promise<void> {
  for (const c of chunks) out.stream.write(c);
  out.stream.end();
  await finished(out.stream);
}

describe('AtomicOutput', () => {
  it('before commit the final name does not exist and the bytes sit in one other file of mode 0600 in the same folder', async () => {
    const final = join(dir, 'out.bin');
    const out = await AtomicOutput.create(final);
    await writeAll(out, [Buffer.from('secret')]);
    const entries = await readdir(dir);
    expect(entries).not.toContain('out.bin');
    expect(entries).toHaveLength(1);
    expect((await stat(join(dir, entries[0]!))).mode & 0o777).toBe(0o600);
    await out.abort();
  });

  it('commit puts every byte under the final name and leaves no other file; writes above the slice size arrive whole', async () => {
    const final = join(dir, 'out.bin');
    const chunks = [randomBytes(3 * 1024 * 1024 + 17), randomBytes(5), randomBytes(700 * 1024)];
    const out = await AtomicOutput.create(final);
    out.stream.cork();
    await writeAll(out, chunks);
    await out.commit();
    // Compared as digests: a deep equality of megabytes is slow.
    expect(sha256(await readFile(final))).toBe(sha256(Buffer.concat(chunks)));
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('refuses to start when the final name exists, with OUTPUT_EXISTS, and creates no file', async () => {
    const final = join(dir, 'taken');
    await writeFile(final, 'theirs');
    await expect(AtomicOutput.create(final)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('a name taken between create and commit is not replaced: commit fails with OUTPUT_EXISTS, the other file keeps its bytes, abort then leaves only it', async () => {
    const final = join(dir, 'race');
    const out = await AtomicOutput.create(final);
    await writeAll(out, [Buffer.from('mine')]);
    await writeFile(final, 'theirs');
    await expect(out.commit()).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(final, 'utf8')).toBe('theirs');
    await out.abort();
    expect(await readdir(dir)).toEqual(['race']);
    expect(await readFile(final, 'utf8')).toBe('theirs');
  });

  it('with force, commit replaces a file that exists', async () => {
    const final = join(dir, 'forced');
    await writeFile(final, 'old');
    const out = await AtomicOutput.create(final, { force: true });
    await writeAll(out, [Buffer.from('new')]);
    await writeFile(final, 'newer, from someone else');
    await out.commit();
    expect(await readFile(final, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['forced']);
  });

  it('abort removes the partial file, and a second abort neither throws nor creates anything', async () => {
    const final = join(dir, 'gone');
    const out = await AtomicOutput.create(final);
    out.stream.write(randomBytes(1024));
    await out.abort();
    expect(await readdir(dir)).toEqual([]);
    await out.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort closes the descriptor', async () => {
    const out = await AtomicOutput.create(join(dir, 'closed'));
    const fd = out.fd;
    expect(fstatSync(fd).isFile()).toBe(true);
    await out.abort();
    expect(() => fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('abort after commit keeps the committed file', async () => {
    const final = join(dir, 'kept');
    const out = await AtomicOutput.create(final);
    await writeAll(out, [Buffer.from('done')]);
    await out.commit();
    await out.abort();
    expect(await readFile(final, 'utf8')).toBe('done');
  });

  it('writes at offsets through fd land in the committed file; fd is refused once the output is closed', async () => {
    const final = join(dir, 'positioned');
    const out = await AtomicOutput.create(final);
    const { write } = await import('node:fs');
    await new Promise<void>((resolve, reject) => write(out.fd, Buffer.from('world'), 0, 5, 6, (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => write(out.fd, Buffer.from('hello '), 0, 6, 0, (e) => (e ? reject(e) : resolve())));
    out.stream.end();
    await out.commit();
    expect(await readFile(final, 'utf8')).toBe('hello world');
    expect(() => out.fd).toThrow('the output is already committed or aborted');
  });

  it('an output folder that cannot be written fails with OUTPUT_FAILED naming the folder', async () => {
    const final = join(dir, 'missing-parent-is-a-file', 'x');
    await writeFile(join(dir, 'missing-parent-is-a-file'), '');
    const error = await AtomicOutput.create(final).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTPUT_FAILED', message: expect.stringContaining(`Cannot write in ${join(dir, 'missing-parent-is-a-file')}: `) });
    expect(error).toMatchObject({ message: expect.stringContaining('Choose another output folder with --out.'), cause: { code: 'ENOTDIR' } });
  });

  it('creates the missing folders of the final path', async () => {
    const final = join(dir, 'a', 'b', 'out');
    const out = await AtomicOutput.create(final);
    await writeAll(out, [Buffer.from('deep')]);
    await out.commit();
    expect(await readFile(final, 'utf8')).toBe('deep');
  });

  it('the partial is tracked for removal at exit while it exists, and no longer once committed or aborted', async () => {
    const committed = await AtomicOutput.create(join(dir, 'c'));
    const aborted = await AtomicOutput.create(join(dir, 'a'));
    expect(livePartials()).toEqual(expect.arrayContaining([committed.tempPath, aborted.tempPath]));
    await writeAll(committed, [Buffer.from('x')]);
    await committed.commit();
    await aborted.abort();
    expect(livePartials()).not.toContain(committed.tempPath);
    expect(livePartials()).not.toContain(aborted.tempPath);
  });

  it('a partial that cannot be created is not tracked', async () => {
    await writeFile(join(dir, 'file'), '');
    const before = livePartials();
    await expect(AtomicOutput.create(join(dir, 'file', 'x'))).rejects.toMatchObject({ code: 'OUTPUT_FAILED' });
    expect(livePartials()).toEqual(before);
  });

  it('destroying the stream leaves the descriptor open, and commit still puts what was written under the name', async () => {
    const out = await AtomicOutput.create(join(dir, 'kept-open'));
    out.stream.destroy();
    await new Promise((resolve) => out.stream.once('close', resolve));
    expect(writeSync(out.fd, Buffer.from('still open'))).toBe(10);
    await out.commit();
    expect(await readFile(join(dir, 'kept-open'), 'utf8')).toBe('still open');
  });

  it('a name longer than the file system allows fails before any file is made, with NAME_TOO_LONG and its byte count', async () => {
    const name = `${'é'.repeat(130)}.kenv`;
    await expect(AtomicOutput.create(join(dir, name))).rejects.toMatchObject({
      code: 'NAME_TOO_LONG',
      message: expect.stringContaining(`The output name ${name} is 265 bytes long, more than the file system of ${dir} allows`),
      cause: { code: 'ENAMETOOLONG' },
    });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('refuseExisting', () => {
  it('refuses a taken name unless forced, naming it and the ways out', async () => {
    const taken = join(dir, 'taken');
    await writeFile(taken, '');
    await expect(refuseExisting(taken, false)).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: `${taken} exists already; nothing was overwritten. Use --force to replace it, or --out to write elsewhere.`,
    });
    await expect(refuseExisting(taken, true)).resolves.toBeUndefined();
    await expect(refuseExisting(join(dir, 'free'), false)).resolves.toBeUndefined();
  });

  it('refuses a taken name even when it is a dangling symbolic link', async () => {
    const { symlink } = await import('node:fs/promises');
    await symlink(join(dir, 'nowhere'), join(dir, 'link'));
    await expect(refuseExisting(join(dir, 'link'), false)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
  });
});

describe('errno helpers', () => {
  it('errnoText says what the common codes mean, else the error message', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: raw`), { code });
    expect(errnoText(err('EACCES'))).toBe('permission denied');
    expect(errnoText(err('EPERM'))).toBe('operation not permitted');
    expect(errnoText(err('ENOSPC'))).toBe('the disk is full');
    expect(errnoText(err('EROFS'))).toBe('the file system is read-only');
    expect(errnoText(err('ENOENT'))).toBe('the folder does not exist');
    expect(errnoText(err('ENOENT'), 'read')).toBe('it does not exist');
    expect(errnoText(err('EACCES'), 'read')).toBe('permission denied');
    expect(errnoText(err('EISDIR'))).toBe('it is a folder');
    expect(errnoText(err('EIO'))).toBe('EIO: raw');
    expect(errnoText('plain text')).toBe('plain text');
  });

  it('errnoCode reads the code of error-like objects only', () => {
    expect(errnoCode(Object.assign(new Error('x'), { code: 'EEXIST' }))).toBe('EEXIST');
    expect(errnoCode({ code: 13 })).toBe('13');
    expect(errnoCode(new Error('x'))).toBe('');
    expect(errnoCode('EEXIST')).toBe('');
    expect(errnoCode(null)).toBe('');
  });

  it('exists is true for a file or folder and false for a missing name', async () => {
    await writeFile(join(dir, 'f'), '');
    expect(await exists(join(dir, 'f'))).toBe(true);
    expect(await exists(dir)).toBe(true);
    expect(await exists(join(dir, 'missing'))).toBe(false);
  });
});
