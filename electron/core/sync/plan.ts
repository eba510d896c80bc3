import { recordedMtime, type IndexEntry, type LocalFile, type RemoteObject, type SyncPlan } from './types.js';

/**
 * The paths whose remote SHA-256 the plan needs before it can decide: both sides hold a file and either no sync
 * has recorded it yet (a first sync that merges) or both changed since. Identical bytes are then adopted instead
 * of reported as a conflict. The engine fetches these with HeadObject; listings carry no metadata.
 */
export function pathsNeedingRemoteHash(
  local: ReadonlyMap<string, LocalFile>,
  remote: ReadonlyMap<string, RemoteObject>,
  index: Readonly<Record<string, IndexEntry>>,
): string[] {
  const out: string[] = [];
  for (const [path, l] of local) {
    const r = remote.get(path);
    if (!r || r.sha256 !== undefined || r.size !== l.size) continue;
    const i = index[path];
    if (!i || (l.sha256 !== i.sha256 && r.etag !== i.etag)) out.push(path);
  }
  return out;
}

/**
 * Decides what one sync does, from three views of each path: the local file, the remote object, and the index
 * entry of the last sync. Pure: no I/O, no clock.
 *
 * The rules never lose bytes: a change beats a deletion (a file edited on one side and deleted on the other is
 * kept), and when both sides changed differently both versions are kept (a conflict). A local file changed when
 * its SHA-256 differs from the index; a remote object changed when its ETag does.
 */
export function planSync(
  local: ReadonlyMap<string, LocalFile>,
  remote: ReadonlyMap<string, RemoteObject>,
  index: Readonly<Record<string, IndexEntry>>,
): SyncPlan {
  const plan: SyncPlan = { upload: [], download: [], deleteLocal: [], deleteRemote: [], conflict: [], unchanged: [], forget: [] };
  const paths = new Set<string>([...local.keys(), ...remote.keys(), ...Object.keys(index)]);
  for (const path of [...paths].sort()) {
    const l = local.get(path);
    const r = remote.get(path);
    const i = index[path];
    const same = (a: LocalFile, b: RemoteObject) => b.sha256 !== undefined && a.sha256 === b.sha256 && a.size === b.size;
    const adopt = (a: LocalFile, b: RemoteObject) =>
      plan.unchanged.push({ path, entry: { path, size: a.size, mtimeMs: recordedMtime(a), etag: b.etag, sha256: a.sha256 } });

    if (!i) {
      if (l && r) {
        if (same(l, r)) adopt(l, r);
        else plan.conflict.push({ path, local: l, remote: r });
      } else if (l) {
        plan.upload.push({ path, local: l });
      } else if (r) {
        plan.download.push({ path, remote: r });
      }
      continue;
    }

    const localChanged = l !== undefined && l.sha256 !== i.sha256;
    const remoteChanged = r !== undefined && r.etag !== i.etag;
    if (l && r) {
      if (!localChanged && !remoteChanged) adopt(l, r);
      else if (localChanged && !remoteChanged) plan.upload.push({ path, local: l, ifMatch: r.etag });
      else if (!localChanged && remoteChanged) plan.download.push({ path, remote: r, replaces: l });
      else if (same(l, r)) adopt(l, r);
      else plan.conflict.push({ path, local: l, remote: r });
    } else if (l) {
      // Deleted remotely: follow the deletion unless the local file changed since, then keep it by uploading it.
      if (localChanged) plan.upload.push({ path, local: l });
      else plan.deleteLocal.push({ path, local: l });
    } else if (r) {
      // Deleted locally: follow the deletion unless the remote object changed since, then bring it back.
      if (remoteChanged) plan.download.push({ path, remote: r });
      else plan.deleteRemote.push({ path, remote: r });
    } else {
      plan.forget.push(path);
    }
  }
  return plan;
}

/** Counts for status lines and summaries. */
export function planCounts(plan: SyncPlan): Record<keyof SyncPlan, number> {
  return {
    upload: plan.upload.length,
    download: plan.download.length,
    deleteLocal: plan.deleteLocal.length,
    deleteRemote: plan.deleteRemote.length,
    conflict: plan.conflict.length,
    unchanged: plan.unchanged.length,
    forget: plan.forget.length,
  };
}
