// AtomicOutput on a file system without hard links (FAT, some network shares): link() fails with EPERM or ENOTSUP,
// and commit falls back to check-then-rename, still refusing a name that is taken.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const linkError = vi.hoisted(() => ({ code: 'EPERM' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    link: async () => {
      throw Object.assign(new Error(`link: ${linkError.code}`), { code: linkError.code });
    },
  };
});

const { AtomicOutput } = await import('../../../../electron/core/atomic-output.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-nolink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function written(final: string, text: string) {
  const out = await AtomicOutput.create(final);
  out.stream.end(Buffer.from(text));
  await finished(out.stream);
  return out;
}

describe('AtomicOutput without hard links', () => {
  it.each(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS'])('link failing with %s: commit renames into place and leaves no other file', async (code) => {
    linkError.code = code;
    const final = join(dir, 'out');
    const out = await written(final, 'bytes');
    await out.commit();
    expect(await readFile(final, 'utf8')).toBe('bytes');
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('the fallback still refuses a name taken before commit: OUTPUT_EXISTS, the other file intact', async () => {
    linkError.code = 'EPERM';
    const final = join(dir, 'out');
    const out = await written(final, 'mine');
    await writeFile(final, 'theirs');
    await expect(out.commit()).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(final, 'utf8')).toBe('theirs');
    await out.abort();
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('any other link error (EIO) fails the commit as is, without renaming', async () => {
    linkError.code = 'EIO';
    const final = join(dir, 'out');
    const out = await written(final, 'mine');
    await expect(out.commit()).rejects.toMatchObject({ code: 'EIO' });
    expect(await readdir(dir)).not.toContain('out');
    await out.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a name the file system finds too long at commit fails with NAME_TOO_LONG, and abort then leaves nothing', async () => {
    linkError.code = 'ENAMETOOLONG';
    const final = join(dir, 'out');
    const out = await written(final, 'mine');
    await expect(out.commit()).rejects.toMatchObject({ code: 'NAME_TOO_LONG', message: expect.stringContaining('The output name out is 3 bytes long') });
    await out.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
