import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kmsKeyCatalogue } from '../../../electron/core/app/key-catalogue.js';
import { parseRecipient } from '../../../electron/core/keyring/recipient.js';
import type { LocalKms } from '../../../electron/core/local-kms/server.js';
import { makeApp, recordingShell } from '../../support/app-services.js';
import { LocalKmsFixture, kmsClient } from '../../support/local-kms.js';

// The app's key picker: RSA keys are listed apart ("for people without AWS") and export a recipient file.
const fixture = new LocalKmsFixture();
let kms: LocalKms;
let client: KMSClient;
let rsaArn: string;
beforeAll(async () => {
  kms = await fixture.start();
  client = kmsClient(kms);
  rsaArn = (await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', Description: 'inbox' }))).KeyMetadata!.Arn!;
});
afterAll(() => fixture.closeAll());

describe('recipient files in the app', () => {
  it('keys:list marks RSA keys with their key spec, symmetric keys without one', async () => {
    const keys = await kmsKeyCatalogue(() => () => client).list();
    expect(keys.find((k) => k.arn === rsaArn)).toMatchObject({ keySpec: 'RSA_2048', description: 'inbox' });
    expect(keys.find((k) => k.aliases[0] === 'alias/kenv-demo')!.keySpec).toBeUndefined();
  });

  it('keys:exportRecipient saves the recipient file where the save dialog says', async () => {
    const dir = fixture.tempDir();
    const target = join(dir, 'inbox.recipient');
    const shell = { ...recordingShell(), chooseSaveFile: async () => target };
    const app = await makeApp({ keys: kmsKeyCatalogue(() => () => client), shell });
    expect(await app.registry.invoke('keys:exportRecipient', { keyArn: rsaArn })).toEqual({ ok: true, value: { path: target } });
    expect(parseRecipient(readFileSync(target, 'utf8'), target)).toMatchObject({ keyArn: rsaArn, algorithm: 'RSAES_OAEP_SHA_256' });
  });

  it('a symmetric key is refused before any dialog opens', async () => {
    let asked = false;
    const shell = { ...recordingShell(), chooseSaveFile: async () => ((asked = true), null) };
    const app = await makeApp({ keys: kmsKeyCatalogue(() => () => client), shell });
    const demo = (await kmsKeyCatalogue(() => () => client).list()).find((k) => k.aliases[0] === 'alias/kenv-demo')!.arn;
    expect(await app.registry.invoke('keys:exportRecipient', { keyArn: demo })).toMatchObject({ ok: false, error: { code: 'INVALID_KEY' } });
    expect(asked).toBe(false);
  });
});
