import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RecipientInfo, Settings } from '../../../shared/ipc.js';
import { errnoText } from '../atomic-output.js';
import { KenvError } from '../errors.js';
import { parseRecipient } from '../keyring/recipient.js';
import type { AppServices } from './handlers.js';
import { planFiles } from './plan.js';
import type { HandlerRegistry } from './registry.js';
import type { RecipientKey } from './services.js';

/** A recipient file is a few lines and one PEM key; anything much larger is not one (and is not read whole). */
const MAX_RECIPIENT_BYTES = 64 * 1024;

/**
 * Reads and checks a recipient file: exactly one key ARN, one algorithm, one RSA public key of 2048 bits or more.
 *
 * Every failure is INVALID_KEY naming the file, before anything is written.
 */
export async function readRecipientFile(path: string): Promise<RecipientInfo & { key: RecipientKey }> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(MAX_RECIPIENT_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_RECIPIENT_BYTES) {
        throw new KenvError('INVALID_KEY', `${basename(path)} is not a Kenv recipient file: it is larger than ${MAX_RECIPIENT_BYTES / 1024} KiB. Ask the key's holder for a new one (kenv public-key KEY --out FILE).`);
      }
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    if (e instanceof KenvError) throw e;
    throw new KenvError('INVALID_KEY', `Cannot read the recipient file ${basename(path)}: ${errnoText(e, 'read')}.`, { cause: e });
  }
  const recipient = parseRecipient(text, `The file ${basename(path)}`);
  const publicKeyPem = recipient.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return {
    path, name: basename(path), keyArn: recipient.keyArn, algorithm: recipient.algorithm,
    keyBits: recipient.publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
    key: { keyArn: recipient.keyArn, algorithm: recipient.algorithm, publicKeyPem },
  };
}

function info({ key: _key, ...rest }: RecipientInfo & { key: RecipientKey }): RecipientInfo {
  return rest;
}

/**
 * Registers *Encrypt for a recipient…* (issue 12): `recipient:choose`, `recipient:inspect`, `recipient:encrypt`.
 *
 * Works without signing in: the data key is made locally and wrapped with RSA-OAEP under the recipient file's public
 * key, so no KMS client is made. The page names the recipient file and the inputs by path, and each must be granted
 * (the dialog here, a drop, "Choose files…"); the recipient file is read and checked again when encrypting, so what
 * was shown is what is used.
 */
export function registerRecipientHandlers(registry: HandlerRegistry, s: AppServices, outputFolder: (settings: Settings) => string | undefined): void {
  registry.handle('recipient:choose', async () => {
    if (!s.shell.chooseRecipientFile) throw new KenvError('NOT_ALLOWED', 'This build cannot choose recipient files.');
    const chosen = await s.shell.chooseRecipientFile();
    if (chosen === null) return null;
    const path = await s.grants.grant(chosen, 'dialog');
    if (path === undefined) throw new KenvError('INPUT_NOT_FOUND', `${basename(chosen)} no longer exists. Choose the recipient file again.`);
    return info(await readRecipientFile(path));
  });

  registry.handle('recipient:inspect', async (request) => info(await readRecipientFile(await s.grants.require(request.path, 'read'))));

  registry.handle('recipient:encrypt', async ({ recipient, paths, outDir }) => {
    const recipientPath = await s.grants.require(recipient, 'read');
    const inputs: string[] = [];
    for (const path of paths) inputs.push(await s.grants.require(path, 'read'));
    const chosenOutDir = outDir === null ? undefined : await s.grants.require(outDir, 'write-into');
    const { key } = await readRecipientFile(recipientPath);
    const files = (await planFiles(inputs)).filter((f) => f.direction === 'encrypt' && f.path !== recipientPath);
    if (files.length === 0) {
      throw new KenvError('INVALID_ARGUMENT', 'There is nothing to encrypt: choose files that are not .kenv files (and not the recipient file itself).');
    }
    const settings = await s.settings.get();
    const context = Object.fromEntries(settings.context.map((p) => [p.key, p.value]));
    return s.jobs.start(files.map((f) => ({
      path: f.path, direction: 'encrypt' as const, keyIds: [], recipient: key, context,
      outDir: chosenOutDir ?? outputFolder(settings),
      // Never: the sender cannot open what they made for someone else, so the original is their only copy.
      deletePlaintext: false,
      fileId: settings.fileId !== false,
    })));
  });
}
