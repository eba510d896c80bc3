/**
 * The renderer's error, refusal, empty and cancel states, in Chromium, through the real handler registry: the app's
 * services are the recording ones of test/support/app-services.ts (no KMS, no AWS), with one service at a time made
 * to fail the way the real one can, so each state is reached the way a person reaches it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppServices } from '../../electron/core/app/handlers.js';
import { KenvError } from '../../electron/core/errors.js';
import type { Identity, KeySummary } from '../../shared/ipc.js';
import { makeApp, SIGNED_IN } from '../support/app-services.js';
import { SocketSink } from '../support/renderer-bridge.js';
import { buildRenderer, dropFiles, launchChromium, openRendererPage } from '../support/renderer-page.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'test-results', 'error-states');

let browser: Browser;
let work: string;
let renderer: string;
const cleanups: (() => Promise<unknown>)[] = [];

const KEY: KeySummary = {
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', arn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  aliases: ['alias/team-files'], description: 'Team files', enabled: true, region: 'eu-west-1',
};
const RSA_KEY: KeySummary = {
  keyId: 'rsa00000-12ab-34cd-56ef-1234567890ab', arn: 'arn:aws:kms:eu-west-1:111122223333:key/rsa00000-12ab-34cd-56ef-1234567890ab',
  aliases: ['alias/scans-inbox'], description: 'Inbox for scans', enabled: true, region: 'eu-west-1', keySpec: 'RSA_3072',
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kenv-e2e-errors-'));
  // Its own build folder: the other end-to-end files build too, and may run at the same time.
  renderer = join(work, 'renderer-dist');
  await buildRenderer(renderer);
  await mkdir(SHOTS, { recursive: true });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await browser?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The app with recording services, `overrides` replacing some, in a fresh page. */
async function openApp(overrides: (app: { dir: string; drops: string }) => Partial<AppServices> = () => ({})) {
  const dir = await mkdtemp(join(work, 'app-'));
  const drops = join(dir, 'drops');
  await mkdir(drops);
  const sink = new SocketSink();
  const app = await makeApp({ events: sink, ...overrides({ dir, drops }) });
  cleanups.push(() => app.services.vaults.dispose());
  const { page, errors } = await openRendererPage({ browser, root: renderer, registry: app.registry, sink, grants: app.grants, drops, cleanups });
  return { ...app, drops, page, pageErrors: errors };
}

/** Drops files or folders from `drops` on the window the way a file manager does. */
function drop(page: Page, names: string[]) {
  return dropFiles(page, '.dropzone', names);
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function keys(list: KeySummary[]): AppServices['keys'] {
  return { list: async () => list };
}

describe('error states in the renderer', () => {
  it('a key list KMS refuses says so in the key panel; Reload lists the keys once KMS answers', async () => {
    let fail = true;
    const { page, pageErrors } = await openApp(() => ({
      keys: {
        list: async () => {
          if (fail) throw new KenvError('KMS_ACCESS_DENIED', 'KMS denied kms:ListKeys to arn:aws:iam::111122223333:user/ada.');
          return [KEY];
        },
      },
    }));
    const panel = page.getByRole('region', { name: 'Encryption key' });
    await panel.getByText('The key list could not be loaded').waitFor();
    expect(await panel.getByText('KMS denied kms:ListKeys to arn:aws:iam::111122223333:user/ada.').count()).toBe(1);
    expect(await page.getByRole('radio').count()).toBe(0);
    await shot(page, '01-key-list-refused');

    fail = false;
    await page.getByRole('button', { name: 'Reload the key list' }).click();
    await page.getByRole('radio', { name: 'team-files' }).waitFor();
    expect(await panel.getByText('The key list could not be loaded').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('no credentials: the banner says what to do, the key panel explains itself, a failed sign-in is shown and dismissed', async () => {
    const nobody: Identity = { ...SIGNED_IN, profile: 'work-sso', profiles: [{ name: 'work-sso', sso: true }], account: null, arn: null, sso: true, status: 'no-credentials', error: { code: 'NO_CREDENTIALS', message: 'No AWS credentials were found.' } };
    const { page } = await openApp(() => ({
      identity: {
        current: async () => nobody,
        useProfile: async () => nobody,
        signIn: async () => { throw new KenvError('SSO_LOGIN_FAILED', 'The sign-in in the browser was denied. Nothing was changed; try Sign in again.'); },
      },
      keys: { list: async () => { throw new KenvError('NO_CREDENTIALS', 'No AWS credentials were found.'); } },
    }));
    const sentence = 'Kenv found no AWS credentials for the profile work-sso. Sign in, or choose another profile above. Encrypt for a recipient works without them.';
    const banner = page.getByRole('alert').filter({ hasText: sentence });
    await banner.waitFor();
    const panel = page.getByRole('region', { name: 'Encryption key' });
    await panel.getByText('No AWS identity to list keys with').waitFor();
    expect(await panel.getByText(sentence).count()).toBe(1);
    expect(await page.getByRole('region', { name: 'AWS identity' }).getByText('No credentials').count()).toBe(1);
    await shot(page, '02-no-credentials');

    await banner.getByRole('button', { name: 'Sign in with AWS SSO' }).click();
    await page.getByText('The sign-in in the browser was denied. Nothing was changed; try Sign in again.').waitFor();
    await shot(page, '03-sign-in-failed');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => page.getByText('The sign-in in the browser was denied.', { exact: false }).count()).toBe(0);
  });

  it('a dropped folder with no files in it starts nothing and says why', async () => {
    const { page, drops, vault } = await openApp(() => ({ keys: keys([KEY]) }));
    await mkdir(join(drops, 'empty-folder'));
    await page.getByRole('radio', { name: 'team-files' }).check();
    await drop(page, ['empty-folder']);
    await page.getByText('That folder holds no files. Drop files or a folder that contains some.').waitFor();
    expect(vault.calls).toEqual([]);
    await shot(page, '04-empty-folder');
  });

  it('cancelling the file picker, or the folder picker of "Ask every time", starts nothing', async () => {
    const { page, drops, vault, shell, services } = await openApp(() => ({ keys: keys([KEY]) }));
    await writeFile(join(drops, 'notes.txt'), 'notes');
    await services.settings.update({ outputLocation: 'ask' });
    await page.reload();
    await page.getByRole('radio', { name: 'team-files' }).check();

    // The picker closed with nothing chosen.
    await page.getByRole('button', { name: 'Choose files…' }).click();
    // A file chosen, then the folder dialog cancelled.
    shell.chooseFiles = async () => [join(drops, 'notes.txt')];
    let askedForFolder = false;
    shell.chooseFolder = async () => { askedForFolder = true; return null; };
    await page.getByRole('button', { name: 'Choose files…' }).click();
    await expect.poll(() => askedForFolder).toBe(true);
    // Then the same file with a folder chosen: only this second batch may reach the vault.
    const outDir = join(drops, 'chosen');
    await mkdir(outDir);
    shell.chooseFolder = async () => outDir;
    await page.getByRole('button', { name: 'Choose files…' }).click();
    await expect.poll(() => vault.calls.length).toBe(1);
    expect(vault.calls[0]).toMatchObject({ op: 'encrypt', path: join(drops, 'notes.txt'), opts: { outDir } });
    expect(await page.locator('.banner.error').count()).toBe(0);
  });

  it('a drop of something that is not a file on disk starts nothing and says what Kenv can work on', async () => {
    const { page, vault } = await openApp(() => ({ keys: keys([KEY]) }));
    await page.getByRole('radio', { name: 'team-files' }).check();
    // No such file under the drop folder: what a File the page made itself (no path) comes to.
    await drop(page, ['not-on-disk.txt']);
    await page.getByText('Kenv can only work on files from your disk. Drop files or folders from the file manager.').waitFor();
    expect(vault.calls).toEqual([]);
  });

  it('switching to a profile that fails keeps the current one and says why; a filter that matches nothing says so', async () => {
    const two: Identity = { ...SIGNED_IN, profiles: [{ name: 'dev', sso: false }, { name: 'gone', sso: false }] };
    const { page } = await openApp(() => ({
      keys: keys([KEY]),
      identity: {
        current: async () => two,
        useProfile: async (profile) => { throw new KenvError('PROFILE_NOT_FOUND', `The AWS profile ${profile} is not in ~/.aws/config any more. Choose another profile.`); },
        signIn: async () => two,
      },
    }));
    await page.getByRole('radio', { name: 'team-files' }).waitFor();
    await page.getByLabel('Profile').selectOption('gone');
    await page.getByText('The AWS profile gone is not in ~/.aws/config any more. Choose another profile.').waitFor();
    expect(await page.getByLabel('Keys listed for').textContent()).toContain('dev ·');

    await page.getByLabel('Filter keys').fill('payroll');
    await page.getByText('No key matches “payroll”.').waitFor();
    expect(await page.getByRole('radio').count()).toBe(0);
    await shot(page, '05-profile-refused-no-match');
  });

  it('exporting a recipient file KMS refuses shows the reason under that key; a cancelled save dialog shows nothing', async () => {
    let refuse = true;
    const { page, shell } = await openApp(() => ({
      keys: {
        list: async () => [KEY, RSA_KEY],
        recipientFile: async () => {
          if (refuse) throw new KenvError('KMS_ACCESS_DENIED', 'KMS denied kms:GetPublicKey on alias/scans-inbox. Ask the key\'s administrator for it.');
          return 'kenv-recipient-v1\n';
        },
      },
    }));
    let asked = 0;
    let answer: string | null = null;
    shell.chooseSaveFile = async () => { asked++; return answer; };
    const row = page.getByRole('listitem').filter({ hasText: 'scans-inbox' });
    const exportButton = page.getByRole('button', { name: 'Export recipient file for scans-inbox' });
    await exportButton.click();
    await row.getByRole('status').getByText('KMS denied kms:GetPublicKey on alias/scans-inbox. Ask the key\'s administrator for it.').waitFor();
    await shot(page, '06-recipient-export-refused');

    // KMS refused before the save dialog: none was shown for nothing.
    expect(asked).toBe(0);
    refuse = false;
    await exportButton.click();
    await expect.poll(() => asked).toBe(1);
    // The old sentence stays until something new is said: a cancelled dialog says nothing new.
    expect(await row.getByText('Saved ').count()).toBe(0);
    const target = join(work, 'scans-inbox.recipient');
    answer = target;
    await exportButton.click();
    await row.getByText(`Saved ${target}. Send it to the people who should encrypt for this key.`).waitFor();
    expect(await readFile(target, 'utf8')).toBe('kenv-recipient-v1\n');
  });
  it('a drop while the SSO session has expired starts nothing and offers to sign in; Retry after signing in starts that drop', async () => {
    const expired: Identity = { ...SIGNED_IN, sso: true, status: 'expired', error: { code: 'SSO_EXPIRED', message: 'The AWS SSO session for dev has expired. Sign in again.' } };
    const renewed: Identity = { ...SIGNED_IN, sso: true };
    let signedIn = false;
    const { page, drops, vault } = await openApp(() => ({
      keys: keys([KEY]),
      identity: {
        current: async () => (signedIn ? renewed : expired),
        useProfile: async () => (signedIn ? renewed : expired),
        signIn: async () => { signedIn = true; return renewed; },
      },
    }));
    await writeFile(join(drops, 'payroll.xlsx'), 'numbers');
    await page.getByRole('alert').filter({ hasText: 'has expired' }).first().waitFor();
    await page.getByRole('radio', { name: 'team-files' }).check();
    await drop(page, ['payroll.xlsx']);
    // The refusal is worded by explain() for SSO_EXPIRED, and names the Retry it offers.
    const refusal = page.locator('.banner.error');
    await refusal.getByText('Your AWS sign-in has expired. Sign in again, then choose Retry.').waitFor();
    const retry = refusal.getByRole('button', { name: 'Retry' });
    expect(await retry.count()).toBe(1);
    expect(vault.calls).toEqual([]);
    await shot(page, '07-expired-drop');

    // Retry before signing in: still refused, still nothing started.
    await retry.click();
    await refusal.getByText('Your AWS sign-in has expired. Sign in again, then choose Retry.').waitFor();
    expect(vault.calls).toEqual([]);

    await refusal.getByRole('button', { name: 'Sign in with AWS SSO' }).click();
    await page.getByRole('region', { name: 'AWS identity' }).getByText('Signed in').waitFor();
    await refusal.getByRole('button', { name: 'Retry' }).click();
    // The same drop, and only it, reaches the vault (through files:plan, where main checks the grant again).
    await expect.poll(() => vault.calls.length).toBe(1);
    expect(vault.calls[0]).toMatchObject({ op: 'encrypt', path: join(drops, 'payroll.xlsx'), opts: { keyIds: [KEY.arn] } });
    await expect.poll(() => page.locator('.banner.error').count()).toBe(0);
  });

  it('long key names in the key panel wrap at their hyphens, never a letter a line, at narrow and wide widths', async () => {
    const longAlias = 'finance-quarterly-reports-archive-2026-eu-west';
    const longRecipient = 'scans-inbox-for-the-whole-finance-department';
    const LONG: KeySummary = { ...KEY, keyId: 'aaaa1111-12ab-34cd-56ef-1234567890ab', arn: 'arn:aws:kms:eu-west-1:111122223333:key/aaaa1111-12ab-34cd-56ef-1234567890ab', aliases: [`alias/${longAlias}`] };
    const LONG_RSA: KeySummary = { ...RSA_KEY, keyId: 'rsa11111-12ab-34cd-56ef-1234567890ab', arn: 'arn:aws:kms:eu-west-1:111122223333:key/rsa11111-12ab-34cd-56ef-1234567890ab', aliases: [`alias/${longRecipient}`] };
    const { page, shell } = await openApp(() => ({ keys: { list: async () => [KEY, LONG, RSA_KEY, LONG_RSA], recipientFile: async () => 'kenv-recipient-v1\n' } }));
    shell.chooseSaveFile = async () => join(work, 'a-recipient-file-saved-under-a-long-name.recipient');
    // The sentence of an export beside the name was what squeezed it most.
    await page.getByRole('button', { name: `Export recipient file for ${longRecipient}` }).click();
    const panel = page.getByRole('region', { name: 'Encryption key' });
    await panel.getByText('Saved ').waitFor();
    for (const width of [1280, 900, 700, 360]) {
      await page.setViewportSize({ width, height: 900 });
      const inner = (await panel.boundingBox())!.width - 32;
      // A short name is one line high.
      const lineHeight = (await panel.getByText('team-files', { exact: true }).boundingBox())!.height;
      for (const name of [longAlias, longRecipient, 'scans-inbox']) {
        const box = (await panel.getByText(name, { exact: true }).boundingBox())!;
        // At least half the panel wide, and the recipient names in at most two lines (at 900 wide they stood one
        // letter a line beside their button).
        expect(box.width, `${name} at ${width}`).toBeGreaterThan(inner / 2);
        if (name !== longAlias) expect(box.height, `${name} at ${width}`).toBeLessThanOrEqual(2 * lineHeight + 1);
        else expect(box.height, `${name} at ${width}`).toBeLessThanOrEqual(3 * lineHeight + 1);
      }
      await panel.screenshot({ path: join(SHOTS, `09-key-panel-${width}.png`) });
    }
  });

  it('a rendering fault shows the crash screen (no blank window); Reload the window brings the app back', async () => {
    let broken = true;
    const { page } = await openApp(() => ({
      identity: {
        // An identity without its profile list: the window cannot draw the profile picker from it.
        current: async () => (broken ? ({ ...SIGNED_IN, profiles: undefined } as unknown as Identity) : SIGNED_IN),
        useProfile: async () => SIGNED_IN,
        signIn: async () => SIGNED_IN,
      },
    }));
    const crash = page.getByRole('alert').filter({ hasText: 'Kenv hit a problem in this window' });
    await crash.waitFor();
    expect(await crash.textContent()).toContain('No file was changed by it.');
    await shot(page, '08-crash-screen');

    broken = false;
    await crash.getByRole('button', { name: 'Reload the window' }).click();
    await page.getByRole('region', { name: 'AWS identity' }).getByText('Signed in').waitFor();
    expect(await page.getByText('Kenv hit a problem in this window').count()).toBe(0);
  });
});
