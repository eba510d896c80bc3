/**
 * Kenv's temporary output files ("partials"): their names, who owns them, and their removal.
 *
 * A partial may hold plaintext decrypted so far, so none may outlive its writer. The writer removes its own on
 * failure (AtomicOutput.abort) and on SIGINT/SIGTERM (removeLivePartialsSync); one left by a writer that died
 * (kill -9, power loss) is removed by the next Kenv process that writes into the same folder.
 *
 * A name is short and fixed whatever the output's name, `.kenv-<pid>-<stamp>-<rand>.partial`, and says who owns it:
 * the pid, plus a stamp of where that process runs (machine and pid namespace) and which process it was (boot and
 * start time), so that a reused pid, another machine sharing the folder, or a container cannot pass for the owner.
 * Only names of exactly this form, whose owner is known dead, are ever removed. The last part counts up within the
 * process (from a random start), so no two partials a process writes at once share a name; a name some other file
 * already holds is skipped (openPartial).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, readFileSync, readlinkSync, unlinkSync, writeSync } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

const PARTIAL_NAME = /^\.kenv-(\d{1,10})-([0-9a-f]{6})([0-9a-f]{6})-[0-9a-f]{4}\.partial$/;

let sequence = randomBytes(2).readUInt16BE(0);

/**
 * A fresh partial name for this process (at most 41 characters), unlike the last 65,535 it gave: a batch writes
 * many partials into one folder at once, and random names would meet (a 1,000-file batch did, 1 run in ~20).
 */
export function partialName(): string {
  sequence = (sequence + 1) & 0xffff;
  return `.kenv-${process.pid}-${self().scope}${self().life}-${sequence.toString(16).padStart(4, '0')}.partial`;
}

/** How many taken names openPartial skips before it gives up. */
const NAME_ATTEMPTS = 16;

/**
 * Creates a new partial in `folder` (mode 0600, never an existing file or a link: O_EXCL), tracked from before it
 * exists. A name another file holds (EEXIST: left by someone else, or planted) is skipped for the next; any other
 * error is thrown as it came, and nothing is left.
 */
export async function openPartial(folder: string, flags: number): Promise<{ path: string; handle: FileHandle }> {
  for (let attempt = 1; ; attempt++) {
    let path = join(folder, partialName());
    // A name this process still writes (the count came round during a long write) is not tried: its EEXIST would
    // untrack the partial that holds it, and a signal would then leave that one behind.
    for (let skipped = 0; live.has(path) && skipped < 0xffff; skipped++) path = join(folder, partialName());
    trackPartial(path);
    try {
      return { path, handle: await open(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600) };
    } catch (e) {
      untrackPartial(path);
      if (errno(e) !== 'EEXIST' || attempt === NAME_ATTEMPTS) throw e;
    }
  }
}

/** Whether `name` is a partial's name (of this Kenv version's form). */
export function isPartialName(name: string): boolean {
  return PARTIAL_NAME.test(name);
}

/**
 * Whether the partial `name` belongs to a process that is gone. False when it cannot be known: the owner runs
 * elsewhere (another machine or pid namespace sharing the folder), or the platform cannot tell a reused pid.
 */
export function ownerIsDead(name: string): boolean {
  const match = PARTIAL_NAME.exec(name);
  if (!match) return false;
  const [, pidText, scope, life] = match as unknown as [string, string, string, string];
  const me = self();
  if (scope !== me.scope) return false;
  const pid = Number(pidText);
  if (pid === process.pid) return life !== me.life;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errno(e) === 'ESRCH') return true;
    // EPERM: alive, another user's. Its start time still tells a reused pid (below).
  }
  const current = lifeOf(String(pid));
  return current !== undefined && current !== life;
}

/** Removes the partials in `folder` whose owner is dead; never anything else. Best effort: returns how many went. */
export async function sweepDeadPartials(folder: string): Promise<number> {
  const names = await readdir(folder).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!isPartialName(name) || !ownerIsDead(name)) continue;
    const path = join(folder, name);
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isFile()) continue;
    await rm(path, { force: true }).then(() => removed++, () => undefined);
  }
  return removed;
}

const swept = new Set<string>();

/** Sweeps `folder` once per process (the first time a partial is made there). */
export async function sweepFolderOnce(folder: string): Promise<void> {
  if (swept.has(folder)) return;
  swept.add(folder);
  await sweepDeadPartials(folder);
}

const live = new Set<string>();

/** Registers a partial this process writes, so that a signal handler can remove it. */
export function trackPartial(path: string): void {
  journalFolderOf(path);
  live.add(path);
}

/** The partial was committed or removed. */
export function untrackPartial(path: string): void {
  live.delete(path);
}

/** The partials this process is writing now. */
export function livePartials(): string[] {
  return [...live];
}

/** Removes every partial this process is writing, synchronously: for a signal handler that exits next. */
export function removeLivePartialsSync(): void {
  for (const path of live) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone (committed or aborted meanwhile).
    }
  }
  live.clear();
}

let journal: string | undefined;
const journaled = new Set<string>();

/**
 * Removes the dead partials in every folder a previous run of this program recorded in `journalPath`, then records
 * each folder this run writes a partial into, so that the next start can do the same (the app calls it at start:
 * a crash or power loss of the app then leaves no plaintext behind once it starts again).
 */
export async function startPartialJournal(journalPath: string): Promise<void> {
  const text = await readFile(journalPath, 'utf8').catch(() => '');
  const folders = new Set<string>();
  for (const line of text.split('\n')) {
    try {
      const folder: unknown = line ? JSON.parse(line) : undefined;
      if (typeof folder === 'string') folders.add(folder);
    } catch {
      // A line cut by a crash.
    }
  }
  const kept: string[] = [];
  for (const folder of folders) {
    await sweepDeadPartials(folder);
    // Folders that still hold partials of a live owner (another running instance) stay in the journal.
    const left = await readdir(folder).catch(() => [] as string[]);
    if (left.some(isPartialName)) kept.push(folder);
  }
  await writeFile(journalPath, kept.map((f) => `${JSON.stringify(f)}\n`).join(''), { mode: 0o600 }).catch(() => undefined);
  journal = journalPath;
  for (const folder of kept) journaled.add(folder);
}

function journalFolderOf(path: string): void {
  const folder = join(path, '..');
  if (!journal || journaled.has(folder)) return;
  journaled.add(folder);
  // On disk before the partial exists: a power loss right after must still find the folder at the next start.
  try {
    const fd = openSync(journal, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(folder)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The journal is a convenience: the next Kenv run writing into the folder sweeps it anyway.
  }
}

interface Stamp {
  /** Where the process runs: machine and pid namespace. */
  scope: string;
  /** Which process it is: boot and start time, where the platform tells them of any process (Linux). */
  life: string;
}

let own: Stamp | undefined;

function self(): Stamp {
  own ??= {
    scope: shortHash(machineId(), readLink('/proc/self/ns/pid')),
    // Without /proc another process's start time cannot be read cheaply; a random life makes pid reuse unknowable
    // for others, and ownerIsDead then keeps such partials rather than guess.
    life: lifeOf('self') ?? randomBytes(3).toString('hex'),
  };
  return own;
}

/** The life stamp of process `pid` (a number or `self`) on Linux: boot id and start time in clock ticks. */
function lifeOf(pid: string): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[19];
    if (!startTime) return undefined;
    return shortHash(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), startTime);
  } catch {
    return undefined;
  }
}

function machineId(): string {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(path, 'utf8').trim();
      if (id) return `${id}/${hostname()}`;
    } catch {
      // Not on this platform.
    }
  }
  return hostname();
}

function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 6);
}

function errno(e: unknown): string {
  return e && typeof e === 'object' && 'code' in e ? String(e.code) : '';
}
