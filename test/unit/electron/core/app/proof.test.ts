import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { VaultOps } from '../../../../../electron/core/app/services.js';
import { makeApp } from '../../../../support/app-services.js';

describe('files:canOpen and vault:verify', () => {
  it('a build without the checks refuses them with a sentence, after the grant check', async () => {
    const app = await makeApp();
    expect(await app.registry.invoke('files:canOpen', { path: `${app.dir}/a.kenv` })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED', message: expect.stringContaining('Kenv works only on files you dropped') } });
    await writeFile(`${app.dir}/a.kenv`, 'x');
    app.shell.chooseFiles = async () => [app.dir];
    await app.registry.invoke('dialog:chooseFiles', {});
    expect(await app.registry.invoke('files:canOpen', { path: `${app.dir}/a.kenv` })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED', message: 'This build cannot check access before decrypting.' } });
  });

  it('vault:verify needs a bound folder, and a build that can check', async () => {
    const app = await makeApp();
    expect(await app.registry.invoke('vault:verify', {})).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('No vault folder is bound') } });
  });

  it('asks the vault about a granted file, and checks the bound folder', async () => {
    const asked: string[] = [];
    const vault = {
      canOpen: async (path: string) => {
        asked.push(`canOpen ${path}`);
        return { canOpen: true, keys: [] };
      },
      verifyFolder: async (folder: string) => {
        asked.push(`verify ${folder}`);
        return [{ path: 'a.kenv', ok: true, error: null }];
      },
    } as Partial<VaultOps>;
    const base = await makeApp();
    const app = await makeApp({ vault: { ...base.vault, ...vault } as VaultOps });
    await writeFile(`${app.dir}/a.kenv`, 'x');
    app.shell.chooseFiles = async () => [app.dir];
    await app.registry.invoke('dialog:chooseFiles', {});
    expect(await app.registry.invoke('files:canOpen', { path: `${app.dir}/a.kenv` })).toEqual({ ok: true, value: { canOpen: true, keys: [] } });
    app.services.vaults.current = async () => ({ binding: { folder: app.dir } }) as never;
    expect(await app.registry.invoke('vault:verify', {})).toEqual({ ok: true, value: [{ path: 'a.kenv', ok: true, error: null }] });
    expect(asked).toEqual([`canOpen ${app.dir}/a.kenv`, `verify ${app.dir}`]);
    const plain = await makeApp();
    plain.services.vaults.current = async () => ({ binding: { folder: plain.dir } }) as never;
    expect(await plain.registry.invoke('vault:verify', {})).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED', message: 'This build cannot check a vault.' } });
  });
});
