import type { Readable } from 'node:stream';
import type { CommandIo } from '../aws/command.js';
import type { Keyring } from '../keyring/types.js';
import type { EncryptionContext } from '../keyring/types.js';
import { createS3Client } from '../sync/s3-client.js';
import { type VerifyResult, verifyTargets } from './verify.js';

export interface VerifyCommandOptions {
  targets: string[];
  keyring: Keyring;
  requiredContext?: EncryptionContext;
  maxEncryptedDataKeys?: number | undefined;
  json?: boolean;
  profile?: string;
  region?: string;
  /** Read for the target `-` (piped input). */
  stdin?: Readable;
}

/**
 * `kenv verify FILE.kenv...|-|DIR|s3://bucket/prefix [--json]`: authenticates every file, writing no plaintext.
 *
 * One line per file (`ok` or `FAILED … [CODE]`, the code decrypt would give), then a count; with --json one
 * document. Exit code 0 only when every file verified.
 */
export async function runVerifyCommand(opts: VerifyCommandOptions, io: CommandIo): Promise<number> {
  const s3 = () => createS3Client({ ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.region ? { region: opts.region } : {}) });
  const results = await verifyTargets(opts.targets, {
    keyring: opts.keyring,
    ...(opts.requiredContext ? { requiredContext: opts.requiredContext } : {}),
    ...(opts.maxEncryptedDataKeys !== undefined ? { maxEncryptedDataKeys: opts.maxEncryptedDataKeys } : {}),
    s3,
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    ...(opts.json ? {} : { onResult: (r: VerifyResult) => (r.ok ? io.out(`ok      ${r.target}`) : io.err(`FAILED  ${r.target}: ${oneLine(r.error.message)} [${r.error.code}]`)) }),
  });
  const failed = results.filter((r) => !r.ok).length;
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          ok: failed === 0,
          verified: results.length - failed,
          failed,
          results: results.map((r) => (r.ok ? { target: r.target, ok: true, bytes: r.bytes, messageId: r.messageId } : { target: r.target, ok: false, code: r.error.code, message: r.error.message })),
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`${results.length - failed} verified, ${failed} failed.`);
  }
  return failed === 0 ? 0 : 1;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ');
}
