// AtomicOutput's stream writes in slices of at most 512 KiB through fs.write: a short or zero-byte write and a failing
// write must still leave either every byte or an error, never a silent gap.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** What the next write calls do: `short` writes at most that many bytes, `zero` writes none once, `fail` fails once. */
const plan = vi.hoisted(() => ({ calls: [] as number[], next: [] as ('zero' | 'fail' | number)[] }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const write = (fd: number, buffer: Buffer, offset: number, length: number, position: number | null, callback: (err: NodeJS.ErrnoException | null, written: number) => void) => {
    plan.calls.push(length);
    const step = plan.next.shift();
    if (step === 'zero') return void setImmediate(() => callback(null, 0));
    if (step === 'fail') return void setImmediate(() => callback(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), 0));
    real.write(fd, buffer, offset, typeof step === 'number' ? Math.min(step, length) : length, position, callback);
  };
  return { ...real, write, default: { ...real, write } };
});

/** Every path whose handle was fsynced, in order (the temporary file, then the folder of the final name). */
const synced = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      synced.push(String(args[0]));
      return sync();
    };
    return handle;
  };
  return { ...real, open, default: { ...real, open } };
});

const { AtomicOutput } = await import('../../../../electron/core/atomic-output.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kenv-writes-'));
  plan.calls = [];
  plan.next = [];
  synced.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

describe('AtomicOutput stream writes', () => {
  it('one large write goes to the disk in calls of at most 512 KiB, every byte in order', async () => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    const data = bytes(1024 * 1024 + 3);
    out.stream.end(data);
    await finished(out.stream);
    await out.commit();
    expect(plan.calls).toEqual([512 * 1024, 512 * 1024, 3]);
    expect((await readFile(join(dir, 'out'))).equals(data)).toBe(true);
  });

  it('corked writes (writev) go out buffer after buffer, each sliced, every byte in order', async () => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    const parts = [bytes(600 * 1024), bytes(10), bytes(5)];
    out.stream.cork();
    for (const p of parts) out.stream.write(p);
    out.stream.end();
    await finished(out.stream);
    await out.commit();
    expect(plan.calls).toEqual([512 * 1024, 88 * 1024, 10, 5]);
    expect((await readFile(join(dir, 'out'))).equals(Buffer.concat(parts))).toBe(true);
  });

  it('a short write continues where it stopped, and a zero-byte write hands back to the stream, which retries the rest', async () => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    const data = bytes(100);
    plan.next = [30, 'zero'];
    out.stream.end(data);
    await finished(out.stream);
    await out.commit();
    expect((await readFile(join(dir, 'out'))).equals(data)).toBe(true);
  });

  it('a zero-byte write inside corked writes hands back too, and every byte still arrives', async () => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    const parts = [bytes(50), bytes(20)];
    plan.next = [50, 'zero'];
    out.stream.cork();
    for (const p of parts) out.stream.write(p);
    out.stream.end();
    await finished(out.stream);
    await out.commit();
    expect((await readFile(join(dir, 'out'))).equals(Buffer.concat(parts))).toBe(true);
  });

  it.each([false, true])('a failing write (disk full) fails the stream with ENOSPC (corked: %s); abort leaves nothing', async (corked) => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    plan.next = [10, 'fail'];
    if (corked) out.stream.cork();
    out.stream.write(bytes(40));
    out.stream.write(bytes(40));
    out.stream.end();
    await expect(finished(out.stream)).rejects.toMatchObject({ code: 'ENOSPC' });
    await out.abort();
    expect(await import('node:fs/promises').then((fs) => fs.readdir(dir))).toEqual([]);
  });

  it('a zero-byte write inside the first of corked buffers hands back what was written: the next buffer does not follow a gap', async () => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    const parts = [bytes(50), Buffer.alloc(20, 7)];
    plan.next = [30, 'zero'];
    out.stream.cork();
    for (const p of parts) out.stream.write(p);
    out.stream.end();
    await finished(out.stream);
    await out.commit();
    expect((await readFile(join(dir, 'out'))).equals(Buffer.concat(parts))).toBe(true);
  });

  it('a file system that keeps writing zero bytes fails the stream instead of spinning; abort leaves nothing', async () => {
    const out = await AtomicOutput.create(join(dir, 'out'));
    plan.next = Array.from({ length: 50 }, () => 'zero' as const);
    out.stream.end(bytes(10));
    await expect(finished(out.stream)).rejects.toThrow();
    await out.abort();
    expect(await import('node:fs/promises').then((fs) => fs.readdir(dir))).toEqual([]);
  });

  it('commit fsyncs the file, then the folder that holds the new name', async () => {
    const final = join(dir, 'durable');
    const out = await AtomicOutput.create(final);
    out.stream.end(bytes(10));
    await finished(out.stream);
    await out.commit();
    expect(synced).toEqual([out.tempPath, dir]);
  });
});
