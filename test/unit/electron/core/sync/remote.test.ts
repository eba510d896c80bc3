import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import {
  SHA256_METADATA,
  headRemote,
  isConditionalConflict,
  isNoSuchKey,
  isPreconditionFailure,
  listRemote,
  stripQuotes,
  toSyncError,
} from '../../../../../electron/core/sync/remote.js';

/** An S3 client that answers from a script and records each command it was sent, with its options. */
function fakeS3(answer: (command: unknown) => unknown) {
  const sent: { command: unknown; options: unknown }[] = [];
  const s3 = {
    send: async (command: unknown, options: unknown) => {
      sent.push({ command, options });
      return answer(command);
    },
  } as unknown as S3Client;
  return { s3, sent };
}

const named = (name: string, status?: number) =>
  Object.assign(new Error(`${name} message`), { name, ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }) });

describe('listRemote', () => {
  it('reads every page, passing the continuation token, the prefix and the abort signal', async () => {
    const pages: Record<string, unknown> = {
      first: { Contents: [{ Key: 'p/a.kenv', Size: 3, ETag: '"e1"' }], IsTruncated: true, NextContinuationToken: 't2' },
      t2: { Contents: [{ Key: 'p/b/c.kenv', Size: 5, ETag: '"e2"' }], IsTruncated: true, NextContinuationToken: 't3' },
      t3: { Contents: [{ Key: 'p/d.kenv', ETag: 'e3' }], IsTruncated: false, NextContinuationToken: 'ignored' },
    };
    const { s3, sent } = fakeS3((c) => pages[(c as ListObjectsV2Command).input.ContinuationToken ?? 'first']);
    const signal = new AbortController().signal;
    const out = await listRemote(s3, 'bucket', 'p/', signal);
    expect([...out.objects.values()]).toEqual([
      { path: 'a.kenv', size: 3, etag: 'e1' },
      { path: 'b/c.kenv', size: 5, etag: 'e2' },
      { path: 'd.kenv', size: 0, etag: 'e3' },
    ]);
    expect(out.objects.get('b/c.kenv')?.etag).toBe('e2');
    expect(out.skipped).toEqual([]);
    expect(sent).toHaveLength(3);
    for (const s of sent) {
      expect(s.command).toBeInstanceOf(ListObjectsV2Command);
      expect((s.command as ListObjectsV2Command).input).toMatchObject({ Bucket: 'bucket', Prefix: 'p/' });
      expect(s.options).toEqual({ abortSignal: signal });
    }
    expect(sent.map((s) => (s.command as ListObjectsV2Command).input.ContinuationToken)).toEqual([undefined, 't2', 't3']);
  });

  it('goes on after the last key of a truncated page that has no token, and sends no empty prefix', async () => {
    const { s3, sent } = fakeS3((c) =>
      (c as ListObjectsV2Command).input.StartAfter === 'a.kenv'
        ? { Contents: [{ Key: 'b.kenv', Size: 2, ETag: '"y"' }], IsTruncated: false }
        : { Contents: [{ Key: 'a.kenv', Size: 1, ETag: '"x"' }], IsTruncated: true },
    );
    const out = await listRemote(s3, 'bucket', '');
    expect([...out.objects.keys()]).toEqual(['a.kenv', 'b.kenv']);
    expect(sent.map((s) => (s.command as ListObjectsV2Command).input)).toEqual([
      { Bucket: 'bucket', Prefix: undefined },
      { Bucket: 'bucket', Prefix: undefined, StartAfter: 'a.kenv' },
    ]);
  });

  it('refuses a listing that says it goes on but does not move on, instead of taking what it has for all', async () => {
    // Taken for whole, the listing would plan every object not listed yet as deleted from S3.
    for (const page of [
      { Contents: [{ Key: 'a.kenv', Size: 1, ETag: '"x"' }], IsTruncated: true },
      { Contents: [], IsTruncated: true },
    ]) {
      const { s3, sent } = fakeS3(() => page);
      const error = await listRemote(s3, 'bucket', 'p/').then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(KenvError);
      expect(error).toMatchObject({ code: 'S3_ERROR', message: expect.stringMatching(/^S3 said the listing of s3:\/\/bucket\/p\/ goes on but gave no way to go on; nothing was changed\./) });
      expect(sent.length).toBeLessThanOrEqual(2);
    }
  });

  it('refuses a listing that answers the same token again, instead of listing the same pages for ever', async () => {
    const known = Array.from({ length: 2_500 }, (_, i) => `k${String(i).padStart(4, '0')}.kenv`);
    for (const page of [
      { Contents: [{ Key: 'p/a.kenv', Size: 1, ETag: '"x"' }], IsTruncated: true, NextContinuationToken: 'same' },
      { Contents: [], IsTruncated: true, NextContinuationToken: 'same' },
    ]) {
      // Listed from the start, and in ranges from what the last sync saw.
      for (const seen of [[], known]) {
        // A stop for the test only: without one, the listing would never end (and never yield to a timer).
        const { s3, sent } = fakeS3(() => (sent.length > 50 ? Promise.reject(new Error('listed for ever')) : page));
        const error = await listRemote(s3, 'bucket', 'p/', undefined, seen).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(KenvError);
        expect(error).toMatchObject({ code: 'S3_ERROR', message: expect.stringMatching(/^S3 said the listing of s3:\/\/bucket\/p\/ goes on but gave no way to go on; nothing was changed\./) });
        expect(sent.length).toBeLessThanOrEqual(12); // Three ranges, then from the start: a few, not 50.
      }
    }
  });

  it('refuses a listing that goes round with a new token each time, instead of listing the same keys for ever', async () => {
    const known = Array.from({ length: 2_500 }, (_, i) => `k${String(i).padStart(4, '0')}.kenv`);
    for (const seen of [[], known]) {
      let n = 0;
      const { s3, sent } = fakeS3(() =>
        sent.length > 50
          ? Promise.reject(new Error('listed for ever'))
          : { Contents: [{ Key: 'p/a.kenv', Size: 1, ETag: '"x"' }], IsTruncated: true, NextContinuationToken: `fresh-${++n}` },
      );
      const error = await listRemote(s3, 'bucket', 'p/', undefined, seen).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'S3_ERROR', message: expect.stringMatching(/^S3 said the listing of s3:\/\/bucket\/p\/ goes on but gave no way to go on; nothing was changed\./) });
      expect(sent.length).toBeLessThanOrEqual(12);
    }
  });

  it('keeps only .kenv objects under the prefix and reports unsafe keys as skipped instead of listing them', async () => {
    const { s3 } = fakeS3(() => ({
      Contents: [
        {},
        { Key: '' },
        { Key: 'other/x.kenv', Size: 1, ETag: '"o"' },
        { Key: 'p/notes.txt', Size: 1, ETag: '"t"' },
        { Key: 'p/ok.kenv', Size: 1, ETag: '"k"' },
        { Key: 'p/../x.kenv', Size: 1, ETag: '"u1"' },
        { Key: 'p/a\\b.kenv', Size: 1, ETag: '"u2"' },
        { Key: 'p/.kenv-sync/index.kenv', Size: 1, ETag: '"u3"' },
      ],
    }));
    const out = await listRemote(s3, 'bucket', 'p/');
    expect([...out.objects.keys()]).toEqual(['ok.kenv']);
    expect(out.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['../x.kenv', 'unsafe-remote-key'],
      ['a\\b.kenv', 'unsafe-remote-key'],
      ['.kenv-sync/index.kenv', 'unsafe-remote-key'],
    ]);
    expect(out.skipped[0]?.detail).toMatch(/"\.\."/);
    expect(out.skipped[1]?.detail).toMatch(/control character/);
    expect(out.skipped[2]?.detail).toMatch(/Kenv's own folder/);
  });

  it('counts the prefix in the length limit of a key', async () => {
    const name = `${'n'.repeat(200)}/${'m'.repeat(200)}/${'o'.repeat(200)}/${'q'.repeat(200)}/${'r'.repeat(200)}.kenv`;
    const { s3 } = fakeS3(() => ({ Contents: [{ Key: `${'x'.repeat(100)}/${name}`, Size: 1, ETag: '"e"' }] }));
    const out = await listRemote(s3, 'bucket', `${'x'.repeat(100)}/`);
    expect(out.objects.size).toBe(0);
    expect(out.skipped[0]?.detail).toMatch(/1024 bytes/);
  });
});

describe('headRemote', () => {
  it('returns the SHA-256 metadata, the unquoted ETag and the size, and passes the abort signal', async () => {
    // x-amz-meta-kenv-sha256: the name every Kenv that shares the bucket reads.
    expect(SHA256_METADATA).toBe('kenv-sha256');
    const { s3, sent } = fakeS3(() => ({ Metadata: { 'kenv-sha256': 'abc' }, ETag: '"etag"', ContentLength: 42 }));
    const signal = new AbortController().signal;
    expect(await headRemote(s3, 'bucket', 'p/a.kenv', signal)).toEqual({ sha256: 'abc', etag: 'etag', size: 42 });
    expect(sent[0]?.command).toBeInstanceOf(HeadObjectCommand);
    expect((sent[0]?.command as HeadObjectCommand).input).toEqual({ Bucket: 'bucket', Key: 'p/a.kenv' });
    expect(sent[0]?.options).toEqual({ abortSignal: signal });
  });

  it('has no SHA-256 and size 0 when S3 gives neither', async () => {
    const { s3 } = fakeS3(() => ({}));
    expect(await headRemote(s3, 'bucket', 'k')).toEqual({ sha256: undefined, etag: '', size: 0 });
  });
});

describe('stripQuotes', () => {
  it('removes every quote and reads a missing ETag as empty', () => {
    expect(stripQuotes('"a"b"')).toBe('ab');
    expect(stripQuotes(undefined)).toBe('');
  });
});

describe('S3 error predicates', () => {
  it('isPreconditionFailure: 412 PreconditionFailed and 409 ConditionalRequestConflict, by name or by status', () => {
    expect(isPreconditionFailure(named('PreconditionFailed'))).toBe(true);
    expect(isPreconditionFailure(named('ConditionalRequestConflict'))).toBe(true);
    expect(isPreconditionFailure(named('Unknown', 412))).toBe(true);
    expect(isPreconditionFailure(named('Unknown', 409))).toBe(true);
    expect(isPreconditionFailure(named('Unknown', 404))).toBe(false);
    expect(isPreconditionFailure(named('NoSuchKey'))).toBe(false);
    expect(isPreconditionFailure(undefined)).toBe(false);
    expect(isPreconditionFailure('PreconditionFailed')).toBe(false);
    expect(isPreconditionFailure({ name: 'PreconditionFailed' })).toBe(true);
  });

  it('isConditionalConflict: only 409, by name or by status', () => {
    expect(isConditionalConflict(named('ConditionalRequestConflict'))).toBe(true);
    expect(isConditionalConflict(named('Unknown', 409))).toBe(true);
    expect(isConditionalConflict(named('PreconditionFailed', 412))).toBe(false);
    expect(isConditionalConflict(null)).toBe(false);
  });

  it('isNoSuchKey: NoSuchKey, NotFound or 404', () => {
    expect(isNoSuchKey(named('NoSuchKey'))).toBe(true);
    expect(isNoSuchKey(named('NotFound'))).toBe(true);
    expect(isNoSuchKey(named('Unknown', 404))).toBe(true);
    expect(isNoSuchKey(named('Unknown', 403))).toBe(false);
    expect(isNoSuchKey(named('AccessDenied'))).toBe(false);
  });
});

describe('toSyncError', () => {
  it('passes a KenvError through unchanged', () => {
    const e = new KenvError('CANCELLED', 'stopped');
    expect(toSyncError(e, 'x')).toBe(e);
  });

  it('maps each S3 refusal to its code, a sentence naming what ran, and the cause', () => {
    const cases: [Error, string, RegExp][] = [
      [named('PreconditionFailed', 412), 'SYNC_REMOTE_CHANGED', /^a\.kenv changed on S3 while this sync ran\. Sync again/],
      [named('ConditionalRequestConflict', 409), 'SYNC_REMOTE_CHANGED', /^a\.kenv changed on S3/],
      [named('NoSuchKey'), 'SYNC_REMOTE_CHANGED', /^a\.kenv changed on S3/],
      [named('AccessDenied'), 'S3_ACCESS_DENIED', /^S3 denied access \(a\.kenv\)\. Check the profile's permissions/],
      [named('Forbidden', 403), 'S3_ACCESS_DENIED', /^S3 denied access \(a\.kenv\)/],
      [named('NoSuchBucket', 404), 'S3_NO_SUCH_BUCKET', /^The bucket does not exist \(a\.kenv\)\. Check the s3:\/\/ location/],
      [named('CredentialsProviderError'), 'NO_CREDENTIALS', /^No AWS credentials were found\. Sign in/],
      [named('Error'), 'S3_ERROR', /^S3 answered with an error \(a\.kenv\): Error: Error message$/],
      [new Error('Region is missing'), 'NO_REGION', /^No AWS Region is configured\. Pass --region/],
      [named('InternalError', 500), 'S3_ERROR', /^S3 answered with an error \(a\.kenv\): InternalError: InternalError message$/],
      [named('AbortError'), 'CANCELLED', /^The sync was stopped \(a\.kenv\)\. It resumes where it stopped next time\.$/],
    ];
    for (const [e, code, sentence] of cases) {
      const out = toSyncError(e, 'a.kenv');
      expect([out.code, out.message]).toEqual([code, expect.stringMatching(sentence)]);
      expect(out.cause).toBe(e);
    }
  });

  it('reads a thrown non-Error as its text and names an unnamed error "Error"', () => {
    const out = toSyncError('boom', 'list');
    expect(out.code).toBe('S3_ERROR');
    expect(out.message).toBe('S3 answered with an error (list): Error: boom');
    expect(out.cause).toBe('boom');
    expect(toSyncError({ name: '' }, 'list').message).toBe('S3 answered with an error (list): Error: [object Object]');
  });

  it('maps network faults before anything else, even an error that also looks like S3, naming S3', () => {
    const refused = Object.assign(named('AccessDenied', 403), { code: 'ECONNREFUSED', syscall: 'connect' });
    const out = toSyncError(refused, 'x');
    expect(out.code).toBe('NETWORK_REFUSED');
    expect(out.message).toMatch(/the S3 endpoint .*for S3 x\..*AWS_ENDPOINT_URL_S3,/);
  });

  it('maps a thrown null or undefined to S3_ERROR instead of failing itself', () => {
    for (const thrown of [null, undefined]) {
      const out = toSyncError(thrown, 'list');
      expect([out.code, out.message]).toEqual(['S3_ERROR', `S3 answered with an error (list): Error: ${String(thrown)}`]);
    }
  });

  it('tells vault writes from vault reads, by system call or by a full disk', () => {
    const fsError = (syscall: unknown, code: string) => Object.assign(new Error(`${code}: fault`), { syscall, code });
    for (const syscall of ['write', 'rename', 'mkdir', 'unlink', 'rmdir', 'fsync', 'copyfile']) {
      const out = toSyncError(fsError(syscall, 'EACCES'), 'a.kenv');
      expect(out.code).toBe('OUTPUT_FAILED');
      expect(out.message).toBe("Could not write in the vault folder (a.kenv): EACCES: fault. Check the folder's permissions and free space.");
      expect(out.cause).toBeInstanceOf(Error);
    }
    expect(toSyncError(fsError('open', 'ENOSPC'), 'a.kenv').code).toBe('OUTPUT_FAILED');
    const read = toSyncError(fsError('open', 'EACCES'), 'scan');
    expect(read.code).toBe('INPUT_UNREADABLE');
    expect(read.message).toBe("Could not read in the vault folder (scan): EACCES: fault. Check the folder's permissions and free space.");
    // A syscall that is not a string is not a file-system error.
    expect(toSyncError(fsError(7, 'EACCES'), 'a.kenv').code).toBe('S3_ERROR');
  });
});
