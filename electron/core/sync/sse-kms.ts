import type { S3Client } from '@aws-sdk/client-s3';
import { KenvError } from '../errors.js';

const CREATES = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'CopyObjectCommand']);
const PARTS = new Set(['UploadPartCommand', 'UploadPartCopyCommand', 'CompleteMultipartUploadCommand']);

/**
 * Makes every object this client writes use S3 server-side encryption under a KMS key (SSE-KMS), on top of Kenv's
 * own encryption: the bucket then holds ciphertext of ciphertext under a second key.
 *
 * S3 calls KMS on the caller's behalf: GenerateDataKey to create an object (PutObject, CreateMultipartUpload), and
 * Decrypt for each further part of a multipart upload. When the caller lacks those, S3 answers a bare-looking
 * AccessDenied; this turns it into an error that names the missing KMS action and the key.
 */
export function useSseKms(s3: S3Client, kmsKeyId: string): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (CREATES.has(command)) {
        const input = args.input as { ServerSideEncryption?: string; SSEKMSKeyId?: string };
        input.ServerSideEncryption = 'aws:kms';
        input.SSEKMSKeyId = kmsKeyId;
      }
      try {
        return await next(args);
      } catch (e) {
        if ((CREATES.has(command) || PARTS.has(command)) && isAccessDenied(e)) throw sseKmsDenied(e, command, kmsKeyId);
        throw e;
      }
    },
    { step: 'initialize', name: 'kenvSseKms', override: true },
  );
}

function isAccessDenied(e: unknown): boolean {
  const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return err?.name === 'AccessDenied' || err?.Code === 'AccessDenied' || err?.$metadata?.httpStatusCode === 403;
}

/** S3's AccessDenied on an SSE-KMS write, as the KMS action and key the caller is missing. */
export function sseKmsDenied(e: unknown, command: string, kmsKeyId: string): KenvError {
  const message = (e instanceof Error ? e.message : String(e)).trim();
  const named = /kms:([A-Za-z]+)/.exec(message)?.[1];
  const action = `kms:${named ?? (PARTS.has(command) ? 'Decrypt' : 'GenerateDataKey')}`;
  const operation = command.replace(/Command$/, '');
  const certain = named !== undefined;
  return new KenvError(
    'KMS_ACCESS_DENIED',
    `S3 refused ${operation} with server-side encryption under ${kmsKeyId}: ${certain ? 'this identity lacks' : 'most likely this identity lacks'} ${action} on that KMS key ` +
      `(S3 calls KMS on your behalf for SSE-KMS${action === 'kms:Decrypt' ? ', and multipart uploads need kms:Decrypt for each part' : ''}). ` +
      `Ask the key's administrator to allow ${action}${action === 'kms:GenerateDataKey' ? ' and kms:Decrypt' : ''} on ${kmsKeyId} for this identity, or sync without --sse-kms-key. (S3 said: ${message.replace(/\.?$/, '')}.)`,
    { cause: e },
  );
}
