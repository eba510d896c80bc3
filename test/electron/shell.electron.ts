/**
 * Tests of the real Electron shell with Playwright's `_electron`, run by `npm run test:electron`.
 *
 * They need an Electron binary, which `npm install` downloads from outside the registry. Where there is none (CI
 * here), this prints one line saying the tests did not run and counts nothing as passed. This is a plain script,
 * not a vitest file, so a missing binary can never show up as a skipped-but-green test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { startLocalKms } from '../../electron/core/local-kms/server.js';

const root = resolve(import.meta.dirname, '../..');

function electronBinary(): string | undefined {
  try {
    return createRequire(import.meta.url)('electron') as string;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (!binary) {
  console.log('electron shell tests: NOT RUN (no Electron binary installed; nothing was counted as passed)');
  process.exit(0);
}

const work = await mkdtemp(join(tmpdir(), 'kenv-electron-'));
const kms = await startLocalKms({ stateDir: join(work, 'kms'), region: 'us-east-1' });
const env = {
  ...process.env, HOME: work, AWS_ENDPOINT_URL_KMS: kms.url, AWS_ENDPOINT_URL_STS: kms.url, AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAKENVTEST00000000', AWS_SECRET_ACCESS_KEY: 'test', AWS_PROFILE: '',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as Record<string, string>;

const results: { name: string; error?: unknown }[] = [];
async function test(name: string, fn: () => Promise<void>) {
  try {
    await fn();
    results.push({ name });
  } catch (error) {
    results.push({ name, error });
  }
}

let app: ElectronApplication | undefined;
try {
  const plain = Buffer.from('quarterly numbers\n'.repeat(1000));
  await writeFile(join(work, 'numbers.txt'), plain);
  app = await electron.launch({
    executablePath: binary,
    args: [root, `--user-data-dir=${join(work, 'user-data')}`],
    env,
  });
  const page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');

  await test('the window is sandboxed with context isolation and no Node', async () => {
    const prefs = await app!.evaluate(({ BrowserWindow }) => {
      const win = BrowserWindow.getAllWindows()[0]!;
      return (win.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> }).getLastWebPreferences();
    });
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(await page.evaluate('typeof require + typeof process'), 'undefinedundefined');
    assert.deepEqual(await page.evaluate('Object.keys(window.kenv).sort()'), ['dropFiles', 'invoke', 'on']);
  });

  await test('the page cannot navigate away or open windows', async () => {
    await page.evaluate(`location.href = 'https://example.com/'`).catch(() => undefined);
    await page.waitForTimeout(200);
    assert.match(page.url(), /^app:\/\/kenv\//);
    assert.equal(await page.evaluate(`window.open('https://example.com/') === null`), true);
  });

  await test('a request from the page with a malformed payload is refused', async () => {
    const result = await page.evaluate(`window.kenv.invoke('files:inspect', { path: 42 })`);
    assert.equal((result as { error: { code: string } }).error.code, 'INVALID_REQUEST');
  });

  await test('the demo key is listed and a file chosen in the dialog is encrypted', async () => {
    await page.getByRole('radio', { name: /kenv-demo/ }).check();
    await app!.evaluate(({ dialog }, path) => {
      dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [path] })) as typeof dialog.showOpenDialog;
    }, join(work, 'numbers.txt'));
    await page.getByRole('button', { name: 'Choose files…' }).click();
    await page.getByText('Saved as').waitFor();
    const sealed = await readFile(join(work, 'numbers.txt.kenv'));
    assert.equal(sealed[0], 0x02);
  });

  await test('a second launch with a .kenv shows its details in the running window', async () => {
    await app!.evaluate(({ app: electronApp }, path) => {
      electronApp.emit('second-instance', {}, ['kenv', '.', path], '/');
    }, join(work, 'numbers.txt.kenv'));
    await page.getByRole('dialog', { name: 'Decrypt numbers.txt.kenv?' }).waitFor();
  });
} finally {
  await app?.close().catch(() => undefined);
  await kms.close();
  await rm(work, { recursive: true, force: true });
}

for (const r of results) console.log(`${r.error ? 'FAIL' : 'ok  '} ${r.name}${r.error ? `\n     ${String(r.error)}` : ''}`);
const failed = results.filter((r) => r.error).length;
console.log(`electron shell tests: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 || results.length === 0 ? 1 : 0);
