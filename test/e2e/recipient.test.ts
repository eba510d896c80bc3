/**
 * *Encrypt for a recipient…* (issue 12) in the real renderer, in Chromium, through the real handlers, on a machine
 * with NO AWS credentials: the recipient file is chosen in the (test) native dialog, the page shows whom it is for,
 * files are chosen and dropped, and the .kenv files are made without a single KMS call. The key's holder then opens
 * them with the CLI through KMS Decrypt.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand } from '@aws-sdk/client-kms';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsIdentityService } from '../../electron/core/app/aws-identity.js';
import { Grants } from '../../electron/core/app/grants.js';
import { type AppServices, registerHandlers } from '../../electron/core/app/handlers.js';
import { JobQueue } from '../../electron/core/app/jobs.js';
import { kmsKeyCatalogue } from '../../electron/core/app/key-catalogue.js';
import { OpenRequests } from '../../electron/core/app/open-requests.js';
import { PrivateOpens } from '../../electron/core/app/private-open.js';
import { HandlerRegistry } from '../../electron/core/app/registry.js';
import { SettingsStore } from '../../electron/core/app/settings-store.js';
import { coreVault } from '../../electron/core/app/vault.js';
import { VaultSyncService } from '../../electron/core/app/vault-sync-service.js';
import { formatRecipient } from '../../electron/core/keyring/recipient.js';
import { defaultKmsClientFactory } from '../../electron/core/kms/client.js';
import type { LocalKms } from '../../electron/core/local-kms/server.js';
import { recordingShell } from '../support/app-services.js';
import { runKenv } from '../support/cli.js';
import { LOCAL_CREDENTIALS, LocalKmsFixture, kmsClient } from '../support/local-kms.js';
import { SocketSink } from '../support/renderer-bridge.js';
import { buildRenderer, dropFiles, launchChromium, openRendererPage } from '../support/renderer-page.js';
import { timeLimit } from '../support/timeouts.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results', 'recipient');
const AXE = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const REGION = 'eu-west-1';
/** Every variable that could hand the AWS SDK an identity; none is set while the app runs. */
const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];

const fixture = new LocalKmsFixture();
let kms: LocalKms;
let browser: Browser;
let work: string;
let renderer: string;
let rsaArn: string;
let recipientText: string;
const saved: Record<string, string | undefined> = {};
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kenv-e2e-recipient-'));
  // Its own build folder: the other end-to-end file builds into renderer-dist and may run at the same time.
  renderer = join(work, 'renderer-dist');
  await buildRenderer(renderer);
  await mkdir(SHOTS, { recursive: true });
  kms = await fixture.start({ region: REGION });
  // The key's holder (with credentials, elsewhere) makes the RSA key and exports its recipient file.
  const admin = kmsClient(kms, REGION);
  rsaArn = (await admin.send(new CreateKeyCommand({ KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT', Description: 'Inbox for scans' }))).KeyMetadata!.Arn!;
  const pub = await admin.send(new GetPublicKeyCommand({ KeyId: rsaArn }));
  recipientText = formatRecipient(rsaArn, 'RSAES_OAEP_SHA_256', pub.PublicKey!);
  // The sender's machine: no credentials of any kind, no profile files; KMS and STS would be the local server, so a
  // stray call would be counted rather than leave the machine.
  for (const name of [...CREDENTIAL_VARIABLES, 'HOME', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_ENDPOINT_URL_KMS', 'AWS_ENDPOINT_URL_STS', 'AWS_REGION']) saved[name] = process.env[name];
  for (const name of CREDENTIAL_VARIABLES) delete process.env[name];
  Object.assign(process.env, {
    HOME: work, AWS_CONFIG_FILE: join(work, 'no-config'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'), AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_KMS: kms.url, AWS_ENDPOINT_URL_STS: kms.url, AWS_REGION: REGION,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await browser?.close();
  await fixture.closeAll();
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  if (work) await rm(work, { recursive: true, force: true });
});

/** The app as the Electron shell wires it, signed in as nobody. */
async function openApp() {
  const dir = await mkdtemp(join(work, 'app-'));
  const drops = join(dir, 'drops');
  await mkdir(drops);
  const sink = new SocketSink();
  const clients = defaultKmsClientFactory({ region: REGION });
  const settings = SettingsStore.inFolder(join(dir, 'user-data'));
  const vault = coreVault(() => clients);
  const shell = recordingShell({ trashDir: await mkdtemp(join(dir, 'trash-')) });
  const grants = new Grants();
  let profile: string | undefined;
  const services: AppServices = {
    vault,
    identity: awsIdentityService({ profile: () => profile, setProfile: (p) => { profile = p; }, openBrowser: async () => undefined }),
    keys: kmsKeyCatalogue(() => clients),
    shell,
    settings,
    jobs: new JobQueue(vault, sink, { progressIntervalMs: 0, grants, trash: (path) => shell.trashItem(path) }),
    openRequests: new OpenRequests(grants),
    privateOpens: new PrivateOpens(vault, shell, sink, dir),
    events: sink,
    vaults: new VaultSyncService({ settings, events: sink }),
    grants,
  };
  cleanups.push(() => services.vaults.dispose());
  const registry = new HandlerRegistry();
  registerHandlers(registry, services);
  const { page, errors: consoleErrors } = await openRendererPage({ browser, root: renderer, registry, sink, grants, drops, cleanups });
  return { dir, drops, page, services, shell, consoleErrors };
}

/** Drops files from `drops` on the window the way a file manager does. */
const drop = dropFiles;

async function axeSerious(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(`${await readFile(AXE, 'utf8')};0`);
  const results = await page.evaluate('window.axe.run(document, { resultTypes: ["violations"] })') as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** What the key's holder runs: kenv decrypt with credentials, through KMS Decrypt on the RSA key. */
function holderDecrypts(path: string, out: string) {
  return runKenv(['decrypt', '--out', out, path], {
    env: { AWS_ENDPOINT_URL_KMS: kms.url, AWS_ENDPOINT_URL_STS: kms.url, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey, AWS_REGION: REGION, HOME: work },
  });
}

// Slow on a shared machine (a first page load, axe, the CLI twice), never waiting on a clock.
describe('Encrypt for a recipient… without signing in', { shuffle: false }, () => {
  it('chooses the recipient file, says whom it is for, encrypts chosen and dropped files with no KMS call; the holder opens them', { timeout: timeLimit(240_000) }, async () => {
    const { page, dir, drops, shell, consoleErrors } = await openApp();
    // Nobody is signed in: the app says so in its own words, naming the profile and the way out, with no CLI command.
    const banner = page.getByRole('alert').filter({ hasText: 'Kenv found no AWS credentials for the profile default.' });
    await banner.waitFor();
    const said = (await banner.textContent())! + (await page.getByRole('status').filter({ hasText: 'No AWS identity' }).textContent());
    expect(said).toContain('Encrypt for a recipient works without them.');
    expect(said).not.toMatch(/--|kenv login|kenv profiles|AWS_ACCESS_KEY_ID/);
    const callsBefore = JSON.stringify(kms.counts());

    const recipientPath = join(dir, 'inbox.recipient');
    await writeFile(recipientPath, recipientText);
    shell.chooseRecipientFile = async () => recipientPath;
    const chosen = join(dir, 'scan-001.pdf');
    await writeFile(chosen, Buffer.alloc(70_000, 7));
    shell.chooseFiles = async () => [chosen];

    await page.getByRole('button', { name: 'Encrypt for a recipient…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Encrypt for a recipient' });
    await dialog.getByText('No AWS sign-in and no network are needed').waitFor();
    await shot(page, '01-choose-recipient');
    expect(await axeSerious(page)).toEqual([]);

    await dialog.getByRole('button', { name: 'Choose recipient file…' }).click();
    const who = dialog.getByRole('region', { name: 'Recipient' });
    await who.getByText(rsaArn).waitFor();
    expect(await who.textContent()).toContain('RSAES_OAEP_SHA_256 · RSA 3072');
    expect(await who.textContent()).toContain(`${rsaArn.split(':')[4]} · ${REGION}`);
    expect(await dialog.getByRole('note').textContent()).toContain('Anyone holding this public key can make such a file');

    await dialog.getByRole('button', { name: 'Choose files…' }).click();
    await dialog.getByText(chosen).waitFor();
    // A file dropped on the dialog joins the batch (and is not encrypted by the window under a KMS key).
    await writeFile(join(drops, 'notes.txt'), 'for the inbox only\n');
    await drop(page, 'dialog', ['notes.txt']);
    await dialog.getByText(join(drops, 'notes.txt')).waitFor();
    await shot(page, '02-recipient-shown');
    expect(await axeSerious(page)).toEqual([]);

    await dialog.getByRole('button', { name: 'Encrypt for this recipient' }).click();
    const results = dialog.getByRole('list', { name: 'Encrypted for the recipient' });
    await results.getByText('Encrypted: scan-001.pdf.kenv').waitFor();
    await results.getByText('Encrypted: notes.txt.kenv').waitFor();
    await shot(page, '03-encrypted');
    expect(await axeSerious(page)).toEqual([]);
    // Not one KMS (or STS) request on the way, and nothing else was written next to the inputs.
    expect(JSON.stringify(kms.counts())).toBe(callsBefore);
    expect((await readdir(drops)).sort()).toEqual(['notes.txt', 'notes.txt.kenv']);

    // The key's holder opens both with KMS Decrypt on the RSA key.
    const out = join(work, 'holder');
    await mkdir(out, { recursive: true });
    for (const name of ['scan-001.pdf.kenv', 'notes.txt.kenv']) {
      const result = await holderDecrypts(join(name.startsWith('scan') ? dir : drops, name), out);
      expect(result.code, result.stderr.toString()).toBe(0);
    }
    expect(await readFile(join(out, 'scan-001.pdf'))).toEqual(Buffer.alloc(70_000, 7));
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('for the inbox only\n');
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });

  it('a hostile recipient file gets a clear error in the dialog, and nothing is written', { timeout: timeLimit(120_000) }, async () => {
    const { page, dir, drops, shell } = await openApp();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const bad = join(dir, 'signing.recipient');
    await writeFile(bad, recipientText.slice(0, recipientText.indexOf('-----BEGIN')) + ec);
    shell.chooseRecipientFile = async () => bad;
    await page.getByRole('button', { name: 'Encrypt for a recipient…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Encrypt for a recipient' });
    await dialog.getByRole('button', { name: 'Choose recipient file…' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('signing.recipient is not a Kenv recipient file: its public key is not an RSA key of 2048 bits or more');
    // A garbage file dropped as the recipient: the same kind of sentence.
    await writeFile(join(drops, 'garbage.recipient'), 'Key-ARN: arn:aws:kms:eu-west-1:111122223333:alias/x\nEncryption-Algorithm: RSAES_OAEP_SHA_256\n');
    await drop(page, 'dialog', ['garbage.recipient']);
    await expect.poll(() => alert.textContent()).toContain('is not a KMS key ARN');
    expect(await dialog.getByRole('button', { name: 'Encrypt for this recipient' }).count()).toBe(0);
    await shot(page, '04-hostile-recipient');
    expect(await axeSerious(page)).toEqual([]);
    expect((await readdir(drops)).sort()).toEqual(['garbage.recipient']);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('dialog').count()).toBe(0);
  });
});
