import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathsNeedingRemoteHash, planCounts, planSync } from '../../../../../electron/core/sync/plan.js';
import type { IndexEntry, LocalFile, RemoteObject, SyncPlan } from '../../../../../electron/core/sync/types.js';

// A model where a file's content is a short string, its SHA-256 is the content itself and ETags are made up.
const lf = (path: string, content: string, mtimeMs = 1): LocalFile => ({ path, size: content.length, mtimeMs, sha256: content });
const ro = (path: string, content: string, etag: string, withHash = true): RemoteObject => ({
  path,
  size: content.length,
  etag,
  ...(withHash ? { sha256: content } : {}),
});
const ie = (path: string, content: string, etag: string): IndexEntry => ({ path, size: content.length, mtimeMs: 1, etag, sha256: content });
const locals = (...files: LocalFile[]) => new Map(files.map((f) => [f.path, f]));
const remotes = (...objects: RemoteObject[]) => new Map(objects.map((o) => [o.path, o]));
const idx = (...entries: IndexEntry[]) => Object.fromEntries(entries.map((e) => [e.path, e]));

function kinds(plan: SyncPlan): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['upload', 'download', 'deleteLocal', 'deleteRemote', 'conflict', 'unchanged'] as const) {
    for (const a of plan[k]) out[a.path] = k;
  }
  for (const p of plan.forget) out[p] = 'forget';
  return out;
}

describe('planSync: first sync (no index)', () => {
  it('uploads local-only files with If-None-Match (no ifMatch)', () => {
    const plan = planSync(locals(lf('a.kenv', 'x')), remotes(), {});
    expect(plan.upload).toEqual([{ path: 'a.kenv', local: lf('a.kenv', 'x') }]);
  });
  it('downloads remote-only objects', () => {
    const plan = planSync(locals(), remotes(ro('a.kenv', 'x', 'e1')), {});
    expect(plan.download).toEqual([{ path: 'a.kenv', remote: ro('a.kenv', 'x', 'e1') }]);
  });
  it('merges a non-empty folder with a non-empty prefix: adopts identical files, keeps both when they differ', () => {
    const plan = planSync(
      locals(lf('same.kenv', 'x'), lf('diff.kenv', 'y'), lf('mine.kenv', 'm')),
      remotes(ro('same.kenv', 'x', 'e1'), ro('diff.kenv', 'z', 'e2'), ro('theirs.kenv', 't', 'e3')),
      {},
    );
    expect(kinds(plan)).toEqual({
      'same.kenv': 'unchanged',
      'diff.kenv': 'conflict',
      'mine.kenv': 'upload',
      'theirs.kenv': 'download',
    });
    expect(plan.unchanged[0]?.entry).toEqual({ path: 'same.kenv', size: 1, mtimeMs: 1, etag: 'e1', sha256: 'x' });
  });
  it('reports a conflict when the remote hash is unknown', () => {
    const plan = planSync(locals(lf('a.kenv', 'x')), remotes(ro('a.kenv', 'x', 'e1', false)), {});
    expect(kinds(plan)).toEqual({ 'a.kenv': 'conflict' });
  });
});

describe('planSync: after a sync', () => {
  const base = idx(ie('a.kenv', 'x', 'e1'));
  it('does nothing when neither side changed', () => {
    expect(kinds(planSync(locals(lf('a.kenv', 'x')), remotes(ro('a.kenv', 'x', 'e1', false)), base))).toEqual({ 'a.kenv': 'unchanged' });
  });
  it('refreshes the recorded mtime of a touched but unchanged file', () => {
    const plan = planSync(locals(lf('a.kenv', 'x', 99)), remotes(ro('a.kenv', 'x', 'e1', false)), base);
    expect(plan.unchanged[0]?.entry.mtimeMs).toBe(99);
  });
  it('uploads a local edit with If-Match on the recorded ETag', () => {
    const plan = planSync(locals(lf('a.kenv', 'y')), remotes(ro('a.kenv', 'x', 'e1', false)), base);
    expect(plan.upload).toEqual([{ path: 'a.kenv', local: lf('a.kenv', 'y'), ifMatch: 'e1' }]);
  });
  it('downloads a remote edit over the unchanged local file', () => {
    const plan = planSync(locals(lf('a.kenv', 'x')), remotes(ro('a.kenv', 'y', 'e2', false)), base);
    expect(plan.download).toEqual([{ path: 'a.kenv', remote: ro('a.kenv', 'y', 'e2', false), replaces: lf('a.kenv', 'x') }]);
  });
  it('reports a conflict when both sides changed differently', () => {
    expect(kinds(planSync(locals(lf('a.kenv', 'y')), remotes(ro('a.kenv', 'z', 'e2')), base))).toEqual({ 'a.kenv': 'conflict' });
  });
  it('adopts when both sides changed to the same bytes', () => {
    expect(kinds(planSync(locals(lf('a.kenv', 'y')), remotes(ro('a.kenv', 'y', 'e2')), base))).toEqual({ 'a.kenv': 'unchanged' });
  });
  it('follows a remote deletion of an unchanged local file', () => {
    expect(kinds(planSync(locals(lf('a.kenv', 'x')), remotes(), base))).toEqual({ 'a.kenv': 'deleteLocal' });
  });
  it('keeps a local edit whose remote was deleted, uploading it as new', () => {
    const plan = planSync(locals(lf('a.kenv', 'y')), remotes(), base);
    expect(plan.upload).toEqual([{ path: 'a.kenv', local: lf('a.kenv', 'y') }]);
  });
  it('follows a local deletion of an unchanged remote object', () => {
    expect(kinds(planSync(locals(), remotes(ro('a.kenv', 'x', 'e1', false)), base))).toEqual({ 'a.kenv': 'deleteRemote' });
  });
  it('brings back a remote edit whose local file was deleted', () => {
    expect(kinds(planSync(locals(), remotes(ro('a.kenv', 'y', 'e2', false)), base))).toEqual({ 'a.kenv': 'download' });
  });
  it('forgets a path deleted on both sides', () => {
    expect(planSync(locals(), remotes(), base).forget).toEqual(['a.kenv']);
  });
  it('plans a local rename as a deletion of the old key and an upload of the new one', () => {
    expect(kinds(planSync(locals(lf('b.kenv', 'x')), remotes(ro('a.kenv', 'x', 'e1', false)), base))).toEqual({
      'a.kenv': 'deleteRemote',
      'b.kenv': 'upload',
    });
  });
});

describe('planSync: a remote hash that claims the local bytes', () => {
  it('is not adopted when the sizes differ (the metadata is the bucket\'s word, the size is the object\'s)', () => {
    const local = lf('a.kenv', 'x');
    const liar: RemoteObject = { path: 'a.kenv', size: 5, etag: 'e2', sha256: 'x' };
    expect(kinds(planSync(locals(local), remotes(liar), {}))).toEqual({ 'a.kenv': 'conflict' });
    const base = idx(ie('a.kenv', 'w', 'e1'));
    expect(kinds(planSync(locals(lf('a.kenv', 'x')), remotes(liar), base))).toEqual({ 'a.kenv': 'conflict' });
  });
});

describe('planSync: order', () => {
  it('lists the actions in path order, whatever order the listings came in', () => {
    const plan = planSync(locals(lf('c.kenv', 'x'), lf('a.kenv', 'x'), lf('b/z.kenv', 'x')), remotes(ro('e.kenv', 'x', 'e1'), ro('d.kenv', 'x', 'e2')), {});
    expect(plan.upload.map((u) => u.path)).toEqual(['a.kenv', 'b/z.kenv', 'c.kenv']);
    expect(plan.download.map((d) => d.path)).toEqual(['d.kenv', 'e.kenv']);
  });
});

describe('planCounts', () => {
  it('counts each category of the plan', () => {
    const plan = planSync(
      locals(lf('up.kenv', 'u'), lf('same.kenv', 's'), lf('dl.kenv', 'x'), lf('c.kenv', 'y'), lf('gone.kenv', 'g')),
      remotes(ro('same.kenv', 's', 'e1'), ro('dl.kenv', 'z', 'e2'), ro('c.kenv', 'q', 'e3'), ro('del.kenv', 'd', 'e4')),
      idx(ie('dl.kenv', 'x', 'e0'), ie('gone.kenv', 'g', 'e5'), ie('del.kenv', 'd', 'e4'), ie('forgot.kenv', 'f', 'e6')),
    );
    expect(planCounts(plan)).toEqual({ upload: 1, download: 1, deleteLocal: 1, deleteRemote: 1, conflict: 1, unchanged: 1, forget: 1 });
  });
});

describe('pathsNeedingRemoteHash', () => {
  it('asks only where both sides hold same-sized files that are new or both changed', () => {
    const l = locals(lf('new.kenv', 'x'), lf('both.kenv', 'y'), lf('one.kenv', 'y'), lf('size.kenv', 'xx'), lf('same.kenv', 'x'));
    const r = remotes(
      ro('new.kenv', 'x', 'e1', false),
      ro('both.kenv', 'z', 'e9', false),
      ro('one.kenv', 'x', 'e1', false),
      ro('size.kenv', 'x', 'e5', false),
      ro('same.kenv', 'x', 'e1', false),
    );
    const i = idx(ie('both.kenv', 'x', 'e1'), ie('one.kenv', 'x', 'e1'), ie('same.kenv', 'x', 'e1'));
    expect(pathsNeedingRemoteHash(l, r, i).sort()).toEqual(['both.kenv', 'new.kenv']);
  });
  it('never asks about a file only one side holds, a hash the listing already gave, or a change on the remote side only', () => {
    const l = locals(lf('local-only.kenv', 'x'), lf('hashed.kenv', 'x'), lf('theirs.kenv', 'x'), lf('ask.kenv', 'x'));
    const r = remotes(ro('hashed.kenv', 'y', 'e2'), ro('theirs.kenv', 'y', 'e2', false), ro('remote-only.kenv', 'x', 'e3', false), ro('ask.kenv', 'y', 'e4', false));
    const i = idx(ie('theirs.kenv', 'x', 'e1'));
    expect(pathsNeedingRemoteHash(l, r, i)).toEqual(['ask.kenv']);
  });
});

// Property tests: a random state of three sides per path, a model executor, and what must always hold.
const PATHS = ['a.kenv', 'b.kenv', 'dir/c.kenv'];
const CONTENTS = ['x', 'y', 'zz'];

interface World {
  local: Map<string, string>;
  remote: Map<string, { content: string; etag: string }>;
  index: Record<string, IndexEntry>;
}

const worldArb = fc
  .tuple(
    ...PATHS.map(() =>
      fc.record({
        base: fc.option(fc.constantFrom(...CONTENTS), { nil: undefined }),
        local: fc.constantFrom('absent', 'base', ...CONTENTS),
        remote: fc.constantFrom('absent', 'base', ...CONTENTS),
      }),
    ),
  )
  .map((states): World => {
    const world: World = { local: new Map(), remote: new Map(), index: {} };
    states.forEach((s, n) => {
      const path = PATHS[n] as string;
      if (s.base !== undefined) world.index[path] = ie(path, s.base, `e0-${s.base}`);
      const pick = (v: string) => (v === 'base' ? s.base : v === 'absent' ? undefined : v);
      const lc = pick(s.local);
      const rc = pick(s.remote);
      if (lc !== undefined) world.local.set(path, lc);
      if (rc !== undefined) world.remote.set(path, { content: rc, etag: s.remote === 'base' ? `e0-${rc}` : `e1-${rc}` });
    });
    return world;
  });

function planWorld(w: World): SyncPlan {
  return planSync(
    new Map([...w.local].map(([p, c]) => [p, lf(p, c)])),
    new Map([...w.remote].map(([p, o]) => [p, ro(p, o.content, o.etag)])),
    w.index,
  );
}

let etagCounter = 0;
function execute(w: World, plan: SyncPlan): void {
  const put = (path: string, content: string) => {
    const etag = `new-${++etagCounter}`;
    w.remote.set(path, { content, etag });
    w.index[path] = ie(path, content, etag);
  };
  for (const u of plan.upload) put(u.path, u.local.sha256);
  for (const d of plan.download) {
    const o = w.remote.get(d.path);
    if (!o) throw new Error('download of a missing object');
    w.local.set(d.path, o.content);
    w.index[d.path] = ie(d.path, o.content, o.etag);
  }
  for (const d of plan.deleteLocal) {
    w.local.delete(d.path);
    delete w.index[d.path];
  }
  for (const d of plan.deleteRemote) {
    w.remote.delete(d.path);
    delete w.index[d.path];
  }
  for (const c of plan.conflict) {
    const copy = `${c.path} (conflict)`;
    w.local.set(copy, c.remote.sha256 ?? '?');
    put(copy, c.remote.sha256 ?? '?');
    put(c.path, c.local.sha256);
  }
  for (const u of plan.unchanged) w.index[u.path] = u.entry;
  for (const p of plan.forget) delete w.index[p];
}

describe('planSync properties', () => {
  it('puts every path in exactly one category', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const plan = planWorld(w);
        const all = [
          ...plan.upload,
          ...plan.download,
          ...plan.deleteLocal,
          ...plan.deleteRemote,
          ...plan.conflict,
          ...plan.unchanged,
        ].map((a) => a.path);
        all.push(...plan.forget);
        const expected = new Set([...w.local.keys(), ...w.remote.keys(), ...Object.keys(w.index)]);
        expect(all.sort()).toEqual([...expected].sort());
      }),
    );
  });

  it('never deletes a version nobody has synced: deletions only hit what the index recorded', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const plan = planWorld(w);
        for (const d of plan.deleteLocal) expect(d.local.sha256).toBe(w.index[d.path]?.sha256);
        for (const d of plan.deleteRemote) expect(d.remote.etag).toBe(w.index[d.path]?.etag);
        for (const u of plan.upload) {
          if (u.ifMatch !== undefined) expect(u.ifMatch).toBe(w.remote.get(u.path)?.etag);
          else expect(w.remote.has(u.path) && w.index[u.path] === undefined).toBe(false);
        }
      }),
    );
  });

  it('keeps every changed version after the plan runs', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const mustSurvive: string[] = [];
        for (const [p, c] of w.local) if (w.index[p]?.sha256 !== c) mustSurvive.push(c);
        for (const [p, o] of w.remote) if (w.index[p]?.etag !== o.etag) mustSurvive.push(o.content);
        execute(w, planWorld(w));
        const kept = new Set(w.local.values());
        for (const c of mustSurvive) expect(kept.has(c)).toBe(true);
      }),
    );
  });

  it('converges: after the plan runs, both sides match and the next plan changes nothing', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        execute(w, planWorld(w));
        expect(new Map([...w.remote].map(([p, o]) => [p, o.content]))).toEqual(w.local);
        const again = planWorld(w);
        expect(again.unchanged.length).toBe(w.local.size);
        expect(again.upload.length + again.download.length + again.conflict.length).toBe(0);
        expect(again.deleteLocal.length + again.deleteRemote.length + again.forget.length).toBe(0);
      }),
    );
  });
});
