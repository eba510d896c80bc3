import { spawn } from 'node:child_process';
import { constants, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicOutput } from '../../../../electron/core/atomic-output.js';
import { isPartialName, livePartials, openPartial, ownerIsDead, partialName, untrackPartial, startPartialJournal, sweepDeadPartials } from '../../../../electron/core/partials.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kenv-partials-'));
  dirs.push(dir);
  return dir;
}

/** A name of this process's form, with another pid and life stamp. */
function nameFor(pid: number, life = 'abcdef'): string {
  const own = partialName();
  const scope = own.split('-')[2]!.slice(0, 6);
  return `.kenv-${pid}-${scope}${life}-0000.partial`;
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('partial names', () => {
  it('are short, fixed in form, and carry the owner', () => {
    const name = partialName();
    expect(isPartialName(name)).toBe(true);
    expect(name.length).toBeLessThanOrEqual(41);
    expect(name.startsWith(`.kenv-${process.pid}-`)).toBe(true);
    expect(isPartialName('.report.pdf.0123456789ab.kenv-partial')).toBe(false);
    expect(isPartialName(`${name}.txt`)).toBe(false);
  });

  it('no two of the last 65,536 a process made are alike (a batch writes many into one folder at once)', () => {
    const names = Array.from({ length: 65_536 }, () => partialName());
    expect(new Set(names).size).toBe(names.length);
  });

  it('a name another file already holds is skipped, and that file is left as it was', async () => {
    const dir = folder();
    // The names the next partials would take, planted by someone else (a file and a link to one of the caller's).
    const last = partialName();
    const next = (k: number): string => last.replace(/-([0-9a-f]{4})\.partial$/, (_, n: string) => `-${((parseInt(n, 16) + k) & 0xffff).toString(16).padStart(4, '0')}.partial`);
    writeFileSync(join(dir, next(1)), 'planted');
    symlinkSync(join(dir, 'target.txt'), join(dir, next(2)));
    writeFileSync(join(dir, 'target.txt'), 'keep');
    const output = await AtomicOutput.create(join(dir, 'out.txt'));
    await new Promise<void>((resolve, reject) => output.stream.end('written', (e?: Error | null) => (e ? reject(e) : resolve())));
    await output.commit();
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('written');
    expect(readFileSync(join(dir, next(1)), 'utf8')).toBe('planted');
    expect(readFileSync(join(dir, 'target.txt'), 'utf8')).toBe('keep');
    expect(readdirSync(dir).sort()).toEqual([next(1), next(2), 'out.txt', 'target.txt'].sort());
  });

  it('a partial still being written keeps its name and its tracking when the count comes round to it again', async () => {
    const dir = folder();
    const first = await openPartial(dir, constants.O_WRONLY);
    try {
      // A long write (a big decrypt in the app) while 65,535 other partials come and go.
      for (let i = 0; i < 0xffff; i++) partialName();
      const second = await openPartial(dir, constants.O_WRONLY);
      await second.handle.close();
      rmSync(second.path);
      untrackPartial(second.path);
      expect(second.path).not.toBe(first.path);
      // Still tracked: a SIGTERM now removes it (removeLivePartialsSync), plaintext is not left behind.
      expect(livePartials()).toContain(first.path);
    } finally {
      await first.handle.close();
      rmSync(first.path, { force: true });
      untrackPartial(first.path);
    }
  });

  it('this process owns its own; the same pid with another life stamp is a dead earlier process', () => {
    expect(ownerIsDead(partialName())).toBe(false);
    const other = nameFor(process.pid, partialName().split('-')[2]!.slice(6) === 'abcdef' ? '123456' : 'abcdef');
    expect(ownerIsDead(other)).toBe(true);
  });

  it('a pid that no longer runs is dead', async () => {
    expect(ownerIsDead(nameFor(await deadPid()))).toBe(true);
  });

  it.runIf(process.platform === 'linux')('a live pid whose start time differs is a reused pid: the owner is dead', async () => {
    const child = spawn('sleep', ['30']);
    try {
      expect(ownerIsDead(nameFor(child.pid!))).toBe(true);
    } finally {
      child.kill();
    }
  });

  it('a name from another machine or pid namespace is never judged', async () => {
    const pid = await deadPid();
    expect(ownerIsDead(`.kenv-${pid}-000000abcdef-0000.partial`)).toBe(partialName().split('-')[2]!.startsWith('000000'));
  });
});

describe('sweeping a folder', () => {
  it('removes only dead owners\' partials, never another live process\'s, a folder, or a look-alike', async () => {
    const dir = folder();
    const dead = nameFor(await deadPid());
    const mine = partialName();
    const lookAlike = '.kenv-1-zzzzzzzzzzzz-0000.partial';
    const oldForm = '.notes.txt.0123456789ab.kenv-partial';
    for (const name of [dead, mine, lookAlike, oldForm, 'notes.txt']) writeFileSync(join(dir, name), 'x');
    const deadFolder = nameFor(await deadPid());
    mkdirSync(join(dir, deadFolder));
    expect(await sweepDeadPartials(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([deadFolder, lookAlike, mine, oldForm, 'notes.txt'].sort());
  });

  it('the first output made in a folder sweeps it; the partial is 0600 and tracked until commit', async () => {
    const dir = folder();
    const dead = nameFor(await deadPid());
    writeFileSync(join(dir, dead), 'plaintext of a process that died');
    const out = await AtomicOutput.create(join(dir, 'result.txt'));
    expect(readdirSync(dir)).toEqual([out.tempPath.slice(dir.length + 1)]);
    expect(livePartials()).toContain(out.tempPath);
    expect(statSync(out.tempPath).mode & 0o777).toBe(0o600);
    out.stream.end('done');
    await new Promise((resolve) => out.stream.on('finish', resolve));
    await out.commit();
    expect(livePartials()).not.toContain(out.tempPath);
    expect(readdirSync(dir)).toEqual(['result.txt']);
  });
});

describe('the app journal of folders with partials', () => {
  it('at start removes what dead runs left in the recorded folders, then records each new folder before writing there', async () => {
    const home = folder();
    const journal = join(home, 'partial-folders.jsonl');
    const [a, b, c] = [folder(), folder(), folder()];
    const deadInA = nameFor(await deadPid());
    const deadInB = nameFor(await deadPid());
    const liveInA = partialName();
    writeFileSync(join(a, deadInA), 'plaintext');
    writeFileSync(join(a, liveInA), 'being written');
    writeFileSync(join(b, deadInB), 'plaintext');
    writeFileSync(journal, `${JSON.stringify(a)}\n${JSON.stringify(b)}\n{"cut by a cra`);

    await startPartialJournal(journal);
    expect(readdirSync(a)).toEqual([liveInA]);
    expect(readdirSync(b)).toEqual([]);
    // A folder that still holds a live owner's partial stays recorded; an emptied one is forgotten.
    expect(readFileSync(journal, 'utf8')).toBe(`${JSON.stringify(a)}\n`);

    const out = await AtomicOutput.create(join(c, 'new.txt'));
    expect(readFileSync(journal, 'utf8')).toBe(`${JSON.stringify(a)}\n${JSON.stringify(c)}\n`);
    await out.abort();
  });
});
