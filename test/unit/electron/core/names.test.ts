import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decryptFile, encryptFile } from '../../../../electron/core/files.js';
import { RawAesKeyring } from '../../../../electron/core/keyring/raw-aes-keyring.js';
import type { Keyring } from '../../../../electron/core/keyring/types.js';

// Long names (issue 9): the temporary name is short and fixed, so a file whose output name fits the file system
// (255 bytes here) encrypts and decrypts in place; only an output name the file system refuses is NAME_TOO_LONG.
const raw = new RawAesKeyring({ namespace: 'kenv-names', name: 'k', key: randomBytes(32) });
let wraps = 0;
const keyring: Keyring = {
  wrapDataKey: (req) => {
    wraps++;
    return raw.wrapDataKey(req);
  },
  unwrapDataKey: (req) => raw.unwrapDataKey(req),
};
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kenv-names-'));
  dirs.push(dir);
  return dir;
}

describe('long file names', () => {
  for (const length of [224, 240, 250]) {
    it(`a ${length}-character name encrypts and decrypts in place`, async () => {
      const dir = folder();
      const name = `${'n'.repeat(length - 4)}.txt`;
      const plaintext = randomBytes(3000);
      writeFileSync(join(dir, name), plaintext);
      const enc = await encryptFile(join(dir, name), { keyring, frameLength: 1024 });
      expect(enc.outputPath).toBe(join(dir, `${name}.kenv`));
      rmSync(join(dir, name));
      const dec = await decryptFile(enc.outputPath, { keyring });
      expect(dec.outputPath).toBe(join(dir, name));
      expect(readFileSync(dec.outputPath).equals(plaintext)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual([name, `${name}.kenv`].sort());
    });
  }

  for (const length of [251, 255]) {
    it(`a ${length}-character name fails with NAME_TOO_LONG before any key is asked for, leaving nothing`, async () => {
      const dir = folder();
      const name = 'x'.repeat(length);
      writeFileSync(join(dir, name), 'content');
      const before = wraps;
      await expect(encryptFile(join(dir, name), { keyring })).rejects.toMatchObject({
        code: 'NAME_TOO_LONG',
        message: expect.stringContaining(`${length + 5} bytes`),
      });
      expect(wraps).toBe(before);
      expect(readdirSync(dir)).toEqual([name]);
    });
  }

  it('a 255-character .kenv name decrypts in place', async () => {
    const dir = folder();
    const name = 'y'.repeat(250);
    writeFileSync(join(dir, name), 'five');
    await encryptFile(join(dir, name), { keyring });
    rmSync(join(dir, name));
    const dec = await decryptFile(join(dir, `${name}.kenv`), { keyring });
    expect(readFileSync(dec.outputPath, 'utf8')).toBe('five');
  });
});
