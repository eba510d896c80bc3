import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { chooser, nameOver, s3Order } from '../../../../support/key-order.js';
import { LIST_RANGES, PAGE_KEYS, compareKeys, listRemote } from '../../../../../electron/core/sync/remote.js';

// The listing of a prefix in ranges at once (listRemote with what the last sync saw): whatever changed on S3 since,
// the ranges together must hold every key exactly once, as one listing from the start would.

interface Quirks {
  /** Lists from the start whatever StartAfter says. */
  ignoresStartAfter?: boolean;
  /** Answers each page's keys in reverse (as S3 Express directory buckets may). */
  unordered?: boolean;
  /** Answers up to 1,000 keys whatever MaxKeys says. */
  ignoresMaxKeys?: boolean;
  /** Lists, and takes StartAfter, in another consistent order than S3's (JavaScript's UTF-16 order, as s3rver does). */
  order?: (a: string, b: string) => number;
  /** Says a page asked for with MaxKeys is the last one, whatever follows it (a paging bug). */
  endsAtMaxKeys?: boolean;
}

/** A bucket that lists as S3 does (ListObjectsV2: Prefix, StartAfter, ContinuationToken, MaxKeys), with quirks. */
function modelS3(keys: string[], quirks: Quirks = {}) {
  const order = quirks.order ?? s3Order;
  const sorted = [...new Set(keys)].sort(order);
  const requests: ListObjectsV2Command['input'][] = [];
  const signals: (AbortSignal | undefined)[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const s3 = {
    async send(command: ListObjectsV2Command, options?: { abortSignal?: AbortSignal }) {
      expect(command).toBeInstanceOf(ListObjectsV2Command);
      const input = command.input;
      requests.push(input);
      signals.push(options?.abortSignal);
      // As the SDK does: a request on an aborted signal fails, at once or when it would have answered.
      const aborted = () => Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
      if (options?.abortSignal?.aborted) throw aborted();
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((done) => setTimeout(done, 1));
      inFlight--;
      if (options?.abortSignal?.aborted) throw aborted();
      const prefix = input.Prefix ?? '';
      const from = input.ContinuationToken ? input.ContinuationToken.slice('after:'.length) : quirks.ignoresStartAfter ? undefined : input.StartAfter;
      const max = quirks.ignoresMaxKeys ? PAGE_KEYS : Math.min(PAGE_KEYS, input.MaxKeys ?? PAGE_KEYS);
      const matching = sorted.filter((k) => k.startsWith(prefix) && (from === undefined || order(k, from) > 0));
      const page = matching.slice(0, max);
      const truncated = matching.length > max;
      const contents = page.map((Key) => ({ Key, Size: Key.length, ETag: `"${Key.length}"` }));
      return {
        Contents: quirks.unordered ? contents.reverse() : contents,
        IsTruncated: truncated && !(quirks.endsAtMaxKeys && input.MaxKeys !== undefined),
        ...(truncated ? { NextContinuationToken: `after:${page.at(-1)!}` } : {}),
      };
    },
  } as unknown as S3Client;
  return { s3, requests, signals, mostInFlight: () => mostInFlight };
}

/** Names whose UTF-16 order differs from S3's: astral characters (surrogate pairs) against U+E000-U+FFFF. */
const ALPHABET = ['a', 'b', 'Z', '0', '~', '-', 'é', '\uE000', '\uFFFD', '\u{1F600}', '\u{10000}'];
const name = nameOver(ALPHABET);


describe('compareKeys', () => {
  it('orders keys as S3 lists them, by UTF-8 bytes, where UTF-16 order differs', () => {
    expect('\u{1F600}' < '\uFFFD').toBe(true); // JavaScript's order...
    expect(compareKeys('\u{1F600}', '\uFFFD')).toBeGreaterThan(0); // ...is not S3's.
    expect(compareKeys('\uE000', '\u{10000}')).toBeLessThan(0);
    expect(compareKeys('\uE000', '\uE001')).toBeLessThan(0);
    expect(compareKeys('\u{10FFFF}', '\u{10FC00}')).toBeGreaterThan(0); // Low surrogates U+DFFF and U+DC00.
    expect(compareKeys('a', 'a')).toBe(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
    expect(compareKeys('b', 'ab')).toBeGreaterThan(0);
  });

  it('agrees in sign with a comparison of the UTF-8 bytes, for any strings', () => {
    // Any code point, half the time one at the edges where UTF-16 and UTF-8 orders part (U+E000, U+FFFF, U+10000).
    const edges = ['a', '\uD7FF', '\uE000', '\uF7FF', '\uF800', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{10FFFF}'];
    const unit = fc.oneof(fc.constantFrom(...edges), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 4 }), fc.string({ unit, maxLength: 4 }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(s3Order(a, b)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('listRemote in ranges', () => {
  const prefix = 'vault/';
  const paths = Array.from({ length: 5_000 }, (_, i) => name(i));
  const keys = paths.map((p) => prefix + p);
  const sortedKeys = [...keys].sort(s3Order);

  it('lists an unchanged prefix in ranges at once, with no more requests than one listing from the start', async () => {
    const bucket = modelS3([...keys, 'other/x.kenv', 'vault', 'vaulu/z.kenv']);
    const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, paths);
    expect([...out.objects.keys()]).toEqual(sortedKeys.map((k) => k.slice(prefix.length)));
    expect(out.objects.get(paths[7]!)).toEqual({ path: paths[7], size: keys[7]!.length, etag: String(keys[7]!.length) });
    expect(bucket.requests).toHaveLength(Math.ceil(keys.length / PAGE_KEYS));
    expect(bucket.mostInFlight()).toBe(LIST_RANGES);
    // Each range starts after the last key of the one before, a whole number of pages in.
    const starts = bucket.requests.filter((r) => !r.ContinuationToken).map((r) => r.StartAfter);
    expect(starts).toEqual([undefined, sortedKeys[999], sortedKeys[1999], sortedKeys[2999]]);
    for (const r of bucket.requests) {
      expect(r).toMatchObject({ Bucket: 'bucket', Prefix: prefix });
      expect(r.MaxKeys ?? PAGE_KEYS).toBe(PAGE_KEYS); // Whole pages; the last range asks for S3's default.
    }
  });

  it('holds every key on S3 exactly once, whatever was added or removed since the last sync (boundaries included)', async () => {
    const universe = Array.from({ length: 7_000 }, (_, i) => name(i));
    await fc.assert(
      fc.asyncProperty(
        fc.integer(),
        fc.double({ min: 0.3, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom<Quirks>({}, { ignoresMaxKeys: true }),
        async (seed, knownShare, remoteShare, quirks) => {
          const next = chooser(seed);
          const known = universe.filter(() => next() < knownShare);
          const isKnown = new Set(known);
          // S3 now: some known keys removed, some never seen added, anywhere in the order.
          const remote = universe.filter((p) => next() < (isKnown.has(p) ? Math.max(remoteShare, 0.5) : remoteShare * 0.3));
          // And names sync refuses to bring down, each to be reported once.
          const unsafe = universe.filter(() => next() < 0.05).map((p) => `${p.slice(0, -'.kenv'.length)}\\.kenv`);
          const bucket = modelS3([...remote, ...unsafe].map((p) => prefix + p), quirks);
          const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, known);
          const inOrder = (list: string[]) => list.map((p) => prefix + p).sort(s3Order).map((k) => k.slice(prefix.length));
          expect([...out.objects.keys()]).toEqual(inOrder(remote));
          expect(out.skipped.map((s) => s.path)).toEqual(inOrder(unsafe));
          // Never a storm of tiny pages: at most one short page per range beyond a listing from the start.
          expect(bucket.requests.length).toBeLessThanOrEqual(Math.ceil(remote.length / PAGE_KEYS) + 2 * LIST_RANGES);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a range that grew past what the index knew is read on in whole pages', async () => {
    const known = paths.slice(0, 4_000);
    const bucket = modelS3(keys);
    const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, known);
    expect(out.objects.size).toBe(keys.length);
    expect(bucket.requests.length).toBeLessThanOrEqual(Math.ceil(keys.length / PAGE_KEYS) + LIST_RANGES);
  });

  it.each<[string, Quirks]>([
    ['ignores StartAfter', { ignoresStartAfter: true }],
    ['lists out of order', { unordered: true }],
  ])('lists again from the start, one page after another, when the server %s', async (_, quirks) => {
    const bucket = modelS3(keys, quirks);
    const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, paths);
    expect(new Set(out.objects.keys())).toEqual(new Set(paths));
    expect(out.objects.size).toBe(paths.length);
    const fromStart = bucket.requests.filter((r) => !r.StartAfter && !r.ContinuationToken);
    expect(fromStart.length).toBe(2); // The first range's, then the listing again.
    const again = bucket.requests.slice(bucket.requests.lastIndexOf(fromStart[1]!));
    expect(again.every((r) => r.MaxKeys === undefined && r.StartAfter === undefined)).toBe(true);
    expect(again).toHaveLength(Math.ceil(keys.length / PAGE_KEYS));
  });

  it('a listing stopped as it finds the server out of order ends stopped instead of listing again', async () => {
    const bucket = modelS3(keys, { unordered: true });
    const send = bucket.s3.send.bind(bucket.s3);
    const controller = new AbortController();
    const stop = Object.assign(new Error('stopped by the user'), { name: 'AbortError' });
    (bucket.s3 as unknown as { send: typeof send }).send = (async (c: ListObjectsV2Command, o?: { abortSignal?: AbortSignal }) => {
      const page = await send(c, o);
      controller.abort(stop); // After the answer: the out-of-order page is read, then the stop is seen.
      return page;
    }) as typeof send;
    await expect(listRemote(bucket.s3, 'bucket', prefix, controller.signal, paths)).rejects.toBe(stop);
    expect(bucket.requests.filter((r) => !r.StartAfter && !r.ContinuationToken)).toHaveLength(1);
  });

  it('finds every key once on a server that lists in another order than S3 (UTF-16 code units), StartAfter included', async () => {
    // Cut at a bound in S3's order, the server's order would put some keys in no range: taken for deleted.
    const utf16 = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    // In S3's order: 999 ASCII names, then U+E000 (the first range's bound), then 500 astral names, which UTF-16
    // puts before U+E000: the first range meets an astral name (past its bound) before the bound itself, and the
    // second range, after U+E000 in the server's order, finds nothing.
    const crafted = [
      ...Array.from({ length: 999 }, (_, i) => `a${String(i).padStart(4, '0')}.kenv`),
      '\uE000.kenv',
      ...Array.from({ length: 500 }, (_, i) => `\u{1F600}${String(i).padStart(4, '0')}.kenv`),
    ];
    for (const [names, quirks] of [
      [crafted, { order: utf16 }],
      [crafted, { order: utf16, ignoresMaxKeys: true }],
      [paths, { order: utf16 }],
    ] as const) {
      const bucket = modelS3(names.map((p) => prefix + p), quirks);
      const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, names);
      expect(new Set(out.objects.keys())).toEqual(new Set(names));
      expect(out.objects.size).toBe(names.length);
    }
  });

  it('lists again from the start when a range says the listing ended but the next range finds keys', async () => {
    // Taken as it is, the first range would miss the keys between where it stopped and its bound.
    const bucket = modelS3(keys, { endsAtMaxKeys: true });
    // 300 keys of the first range unknown: it asks for 300 fewer than it holds, and its answer ends short of the bound.
    const unknown = new Set(sortedKeys.slice(100, 400).map((k) => k.slice(prefix.length)));
    const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, paths.filter((p) => !unknown.has(p)));
    expect(out.objects.size).toBe(paths.length);
    expect(new Set(out.objects.keys())).toEqual(new Set(paths));
    expect(bucket.requests.filter((r) => !r.StartAfter && !r.ContinuationToken)).toHaveLength(2); // The first range's, then the listing again.
  });

  it('lists a directory bucket (no key order, no StartAfter) from the start only', async () => {
    const bucket = modelS3(keys, { unordered: true });
    const out = await listRemote(bucket.s3, 'kenv--usw2-az1--x-s3', prefix, undefined, paths);
    expect(out.objects.size).toBe(paths.length);
    expect(bucket.requests).toHaveLength(Math.ceil(keys.length / PAGE_KEYS));
    expect(bucket.requests.every((r) => r.StartAfter === undefined && r.MaxKeys === undefined)).toBe(true);
    expect(bucket.mostInFlight()).toBe(1);
  });

  it('lists from the start when the index knows less than two pages', async () => {
    const bucket = modelS3(keys.slice(0, 1_500));
    await listRemote(bucket.s3, 'bucket', prefix, undefined, paths.slice(0, PAGE_KEYS));
    expect(bucket.requests.map((r) => r.StartAfter ?? r.ContinuationToken ?? 'start')).toEqual(['start', `after:${[...keys.slice(0, 1_500)].sort(s3Order)[999]}`]);
  });

  it('lists in two ranges when the index knows between one and two pages', async () => {
    const bucket = modelS3(keys.slice(0, 1_500));
    const out = await listRemote(bucket.s3, 'bucket', prefix, undefined, paths.slice(0, 1_500));
    expect(out.objects.size).toBe(1_500);
    expect(bucket.requests.map((r) => r.StartAfter ?? 'start')).toEqual(['start', [...keys.slice(0, 1_500)].sort(s3Order)[999]]);
  });

  it('passes an abort during the listing on to every range, and leaves no listener on the caller\'s signal', async () => {
    const done = modelS3(keys);
    const signal = new AbortController().signal;
    await listRemote(done.s3, 'bucket', prefix, signal, paths);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);

    const bucket = modelS3(keys);
    const controller = new AbortController();
    const listing = listRemote(bucket.s3, 'bucket', prefix, controller.signal, paths);
    expect(bucket.requests).toHaveLength(LIST_RANGES); // The ranges' first requests are in flight.
    controller.abort(new Error('stop'));
    await expect(listing).rejects.toMatchObject({ name: 'AbortError' });
    expect(bucket.requests).toHaveLength(LIST_RANGES);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('stops every range when one fails, and when the caller aborts', async () => {
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const bucket = modelS3(keys);
    const send = bucket.s3.send.bind(bucket.s3);
    let calls = 0;
    (bucket.s3 as unknown as { send: typeof send }).send = (async (c: ListObjectsV2Command, o?: { abortSignal?: AbortSignal }) => {
      if (++calls === 3) throw denied;
      return send(c, o);
    }) as typeof send;
    await expect(listRemote(bucket.s3, 'bucket', prefix, undefined, paths)).rejects.toBe(denied);
    expect(bucket.signals.length).toBeGreaterThan(0);
    expect(bucket.signals.every((s) => s?.aborted)).toBe(true);

    const stopped = modelS3(keys);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(listRemote(stopped.s3, 'bucket', prefix, controller.signal, paths)).rejects.toMatchObject({ name: 'AbortError' });
    expect(stopped.signals.length).toBeGreaterThan(0);
    expect(stopped.signals.every((s) => s?.aborted)).toBe(true);
  });
});
