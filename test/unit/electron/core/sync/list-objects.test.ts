import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KenvError } from '../../../../../electron/core/errors.js';
import { type ListedKeys, walkObjects } from '../../../../../electron/core/sync/list-objects.js';
import { type HostileS3, startHostileS3 } from '../../../../support/hostile-s3.js';

// The one ListObjectsV2 page walk (sync's listing, kenv verify), through the real SDK against a bucket over HTTP
// that lists as S3 does until a test makes it lie: each way a listing can break off or go round must end in every key
// once, or in S3_ERROR; never in a short list taken for the whole, and never in a loop.
const keys = Array.from({ length: 7 }, (_, i) => `p/k${i}.kenv`);
let s3: HostileS3;

beforeAll(async () => {
  s3 = await startHostileS3({ ...Object.fromEntries(keys.map((k) => [k, Buffer.from(k)])), 'other/x.kenv': Buffer.from('x') });
});
afterAll(async () => {
  await s3.close();
});
beforeEach(() => {
  s3.lists.length = 0;
  s3.list = (r, asS3) => asS3(r);
});

async function walk(over: { after?: string; maxKeys?: number } = {}): Promise<ListedKeys[]> {
  const pages: ListedKeys[] = [];
  const maxKeys = over.maxKeys ?? 3;
  for await (const page of walkObjects(s3.client(), { bucket: 'b', prefix: 'p/', after: over.after, maxKeys: () => maxKeys })) pages.push(page);
  return pages;
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
const endless = { code: 'S3_ERROR', message: expect.stringMatching(/^S3 said the listing of s3:\/\/b\/p\/ goes on but gave no way to go on; nothing was changed\./) };

describe('walkObjects', () => {
  it('follows S3\'s tokens page by page: every key under the prefix once, in order', async () => {
    const pages = await walk();
    expect(pages.map((p) => [p.keys.map((k) => k.key), p.truncated])).toEqual([
      [keys.slice(0, 3), true],
      [keys.slice(3, 6), true],
      [keys.slice(6), false],
    ]);
    expect(pages[0]?.keys[0]).toEqual({ key: 'p/k0.kenv', size: 9, etag: '"9"' });
    expect(s3.lists.map((r) => [r.prefix, r.token, r.startAfter, r.maxKeys])).toEqual([
      ['p/', undefined, undefined, 3],
      ['p/', 'after:p/k2.kenv', undefined, 3],
      ['p/', 'after:p/k5.kenv', undefined, 3],
    ]);
  });

  it('starts after the key it is given', async () => {
    const pages = await walk({ after: 'p/k4.kenv' });
    expect(pages.flatMap((p) => p.keys.map((k) => k.key))).toEqual(keys.slice(5));
    expect(s3.lists[0]?.startAfter).toBe('p/k4.kenv');
  });

  it('goes on after the last key of a truncated page without a token, instead of ending there', async () => {
    s3.list = (r, asS3) => ({ ...asS3(r), token: undefined });
    const pages = await walk();
    expect(pages.flatMap((p) => p.keys.map((k) => k.key))).toEqual(keys);
    expect(s3.lists.map((r) => [r.token, r.startAfter])).toEqual([
      [undefined, undefined],
      [undefined, 'p/k2.kenv'],
      [undefined, 'p/k5.kenv'],
    ]);
  });

  it('does not follow a token it was given before: goes on after the page\'s last key', async () => {
    // A server whose tokens all read "start again" after the first: following them would list the first pages for ever.
    s3.list = (r, asS3) => {
      const answer = asS3({ ...r, token: r.token === 'again' ? undefined : r.token });
      return { ...answer, ...(answer.truncated ? { token: 'again' } : {}) };
    };
    const pages = await walk();
    expect(pages.flatMap((p) => p.keys.map((k) => k.key))).toEqual(keys);
    expect(s3.lists.length).toBeLessThan(10);
  });

  it('refuses a truncated page that gives no way on: no key to start after, or one not after where it started', async () => {
    for (const answer of [
      { keys: [], truncated: true },
      { keys: [], truncated: true, token: 'same' },
    ]) {
      s3.lists.length = 0;
      s3.list = () => answer;
      const error = await failure(walk());
      expect(error).toBeInstanceOf(KenvError);
      expect(error).toMatchObject({
        code: 'S3_ERROR',
        message:
          'S3 said the listing of s3://b/p/ goes on but gave no way to go on; nothing was changed. ' +
          'Try again; if it persists, the server does not list as S3 does (ListObjectsV2 pages).',
      });
      expect(s3.lists.length).toBeLessThanOrEqual(2);
    }
    // Asked to start after k5, it answers k1 and no token: starting after k1 would list backwards, round and round.
    s3.lists.length = 0;
    s3.list = (r) => ({ keys: r.startAfter === undefined ? ['p/k5.kenv'] : ['p/k1.kenv'], truncated: true });
    expect(await failure(walk())).toMatchObject({ ...endless, message: expect.stringContaining('Keys after p/k1.kenv were not listed.') });
    expect(s3.lists.map((r) => r.startAfter)).toEqual([undefined, 'p/k5.kenv']);
  });

  it('refuses a listing that goes round with a new token each time, instead of listing the same keys for ever', async () => {
    let n = 0;
    s3.list = () => ({ keys: keys.slice(0, 2), truncated: true, token: `fresh-${++n}` });
    const error = await failure(walk());
    expect(error).toMatchObject({ ...endless, message: expect.stringContaining('Keys after p/k1.kenv were not listed.') });
    // The round is noticed, the listing tried once after the last new key (which this server ignores too), then refused.
    expect(s3.lists.map((r) => [r.token, r.startAfter])).toEqual([[undefined, undefined], ['fresh-1', undefined], [undefined, 'p/k1.kenv']]);
  });

  it('follows an empty truncated page that has a new token (S3 passing over deleted keys)', async () => {
    s3.list = (r, asS3) => (r.token === undefined ? { keys: [], truncated: true, token: 'after:p/k3.kenv' } : asS3(r));
    const pages = await walk({ maxKeys: 10 });
    expect(pages.map((p) => p.keys.length)).toEqual([0, 3]);
  });

  it('drops keys outside the prefix and keys it listed before, on any page', async () => {
    s3.list = (r, asS3) => {
      const answer = asS3(r);
      return { ...answer, keys: ['other/x.kenv', ...answer.keys, 'p/k0.kenv'] };
    };
    const pages = await walk();
    expect(pages.flatMap((p) => p.keys.map((k) => k.key))).toEqual(keys);
  });

  it.each([
    ['with tokens', true],
    ['without tokens', false],
  ])('goes on through the neighbours of a server that ignores Prefix (%s): pages of other keys are progress', async (_, tokens) => {
    // The bucket's whole listing, one key a page: 'other/x.kenv' sorts after the prefix, so the keys before it
    // come first ('a/…' before it, so a first page holds no key under the prefix).
    s3.objects.set('a/before.kenv', Buffer.from('a'));
    try {
      s3.list = (r, asS3) => {
        const answer = asS3({ ...r, prefix: '', maxKeys: 1 });
        return tokens ? answer : { ...answer, token: undefined };
      };
      const pages = await walk();
      expect(pages.flatMap((p) => p.keys.map((k) => k.key))).toEqual(keys);
    } finally {
      s3.objects.delete('a/before.kenv');
    }
  });

  it('asks for the server\'s page size when given none, and sends no empty prefix', async () => {
    const pages: ListedKeys[] = [];
    for await (const page of walkObjects(s3.client(), { bucket: 'b', prefix: '' })) pages.push(page);
    expect(pages.flatMap((p) => p.keys.map((k) => k.key))).toEqual(['other/x.kenv', ...keys]);
    expect(s3.lists).toEqual([{ prefix: '', token: undefined, startAfter: undefined, maxKeys: 1000 }]);
  });

  it('asks for no more pages once the caller leaves its loop', async () => {
    for await (const page of walkObjects(s3.client(), { bucket: 'b', prefix: 'p/', maxKeys: () => 2 })) {
      expect(page.keys).toHaveLength(2);
      break;
    }
    expect(s3.lists).toHaveLength(1);
  });
});
