import { useContext, useEffect, useId, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { SyncProgress, SyncStatus } from '../../shared/sync.js';
import { s3LocationProblem } from '../../shared/s3-location.js';
import type { ConflictVersion, VaultConflict, VaultFile, VaultState } from '../../shared/vault.js';
import type { VerifiedFile } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { Fixes } from './ErrorView.js';
import { formatBytes } from './format.js';
import './vault-panel.css';

/**
 * The vault panel: one folder bound to an S3 prefix, as a place. Until a folder is bound it is one line and a
 * "Set up sync…" button; bound, it shows the binding, the sync status, the folder's files with their state (and
 * live progress), conflicts side by side, plaintext found in the folder with *Encrypt them*, and the controls.
 * Everything goes through the `vault:*` channels; status arrives as `vault:status`, progress as `vault:progress`.
 */
export function VaultPanel({ onError, keyIds, keyText }: {
  onError: (e: ErrorInfo) => void;
  /** The keys the drop target encrypts with: *Encrypt them* uses the same. */
  keyIds: string[];
  keyText: string | null;
}) {
  const [state, setState] = useState<VaultState | null>(null);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Map<string, SyncProgress>>(new Map());

  useEffect(() => {
    let live = true;
    const off = window.kenv.on('vault:status', (s) => setState(s));
    const offProgress = window.kenv.on('vault:progress', (p) => setProgress((m) => {
      const next = new Map(m);
      if (p.done) next.delete(p.path);
      else next.set(p.path, p);
      return next;
    }));
    call('vault:get', {}).then((s) => { if (live) setState((prev) => prev ?? s); }, (error: unknown) => onError(errorInfo(error)));
    return () => {
      live = false;
      off();
      offProgress();
    };
  }, [onError]);

  const act = async (work: () => Promise<VaultState>) => {
    setBusy(true);
    try {
      setState(await work());
    } catch (error) {
      onError(errorInfo(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel vault-panel" aria-labelledby="vault-title">
      <div className="panel-head">
        <h2 id="vault-title">Vault sync</h2>
        {state?.binding
          ? <span className={`status vault-${stateClass(state)}`}><span className="dot" aria-hidden="true" />{stateLabel(state)}</span>
          : state && <span className="muted">Not set up</span>}
      </div>
      {!state ? (
        <p className="muted" aria-live="polite">Loading the vault binding…</p>
      ) : state.binding ? (
        <BoundVault state={state} busy={busy} act={act} progress={progress} keyIds={keyIds} keyText={keyText} onError={onError} />
      ) : (
        <SetUp busy={busy} act={act} onError={onError} />
      )}
    </section>
  );
}

/** Unbound: one line and a button; the form opens on demand (most people never sync). */
function SetUp({ busy, act, onError }: { busy: boolean; act: (w: () => Promise<VaultState>) => Promise<void>; onError: (e: ErrorInfo) => void }) {
  const [open, setOpen] = useState(false);
  const formId = useId();
  if (!open) {
    return (
      <div className="vault-setup">
        <p className="hint">Keep a folder of <code>.kenv</code> files in sync with an S3 bucket; plaintext never leaves this computer.</p>
        <button type="button" className="secondary" aria-expanded={false} aria-controls={formId} onClick={() => setOpen(true)}>Set up sync…</button>
      </div>
    );
  }
  return <BindForm id={formId} busy={busy} act={act} onError={onError} onCancel={() => setOpen(false)} />;
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function BoundVault({ state, busy, act, progress, keyIds, keyText, onError }: {
  state: VaultState;
  busy: boolean;
  act: (w: () => Promise<VaultState>) => Promise<void>;
  progress: Map<string, SyncProgress>;
  keyIds: string[];
  keyText: string | null;
  onError: (e: ErrorInfo) => void;
}) {
  const binding = state.binding!;
  const { status } = state;
  const running = status.state === 'scanning' || status.state === 'syncing';
  const reveal = (path: string) => void call('vault:reveal', { path }).catch((e: unknown) => onError(errorInfo(e)));
  const plaintext = state.files?.files.filter((f) => f.state === 'plaintext') ?? [];
  const [encrypting, setEncrypting] = useState(false);
  const encryptThem = async () => {
    setEncrypting(true);
    try {
      await call('vault:encryptPlaintext', { keyIds });
    } catch (e) {
      onError(errorInfo(e));
    } finally {
      setEncrypting(false);
    }
  };
  return (
    <>
      <dl className="vault-facts">
        <dt>Folder</dt>
        <dd><code>{binding.folder}</code> <button type="button" className="link" onClick={() => reveal('')}>Reveal in folder</button></dd>
        <dt>S3 location</dt><dd><code>{binding.remote}</code></dd>
        <dt>Profile</dt>
        <dd>{binding.profile ?? <>{state.profileInUse ?? 'Default AWS credentials'} <span className="muted">(follows the identity bar)</span></>}</dd>
        <dt>Region</dt><dd>{binding.region ?? 'From the profile'}</dd>
        <dt>In S3</dt>
        <dd>{binding.sseKmsKeyId ? <>Encrypted again with SSE-KMS under <code>{binding.sseKmsKeyId}</code></> : "The bucket's default encryption"}</dd>
        <dt>Last sync</dt><dd>{status.lastSyncAt ? when(status.lastSyncAt) : 'Not synced yet'}</dd>
      </dl>
      <p className={`vault-line${status.state === 'error' ? ' error-text' : ''}`} role="status" aria-live="polite">
        {statusSentence(status, binding.paused, plaintext.length)}
      </p>
      {status.endpointWarning && (
        <p className="hint vault-endpoint-warning" role="note">
          {status.endpointWarning}
        </p>
      )}
      {status.errors.some((e) => e.code === 'SYNC_MASS_DELETE') && (
        <div className="vault-actions">
          <button type="button" className="secondary" disabled={busy || running} onClick={() => void act(() => call('vault:allowDeletions', {}))}>
            Allow these deletions once
          </button>
        </div>
      )}
      {state.conflicts.length > 0 && (
        <div className="vault-conflicts">
          <h3 id="vault-conflicts-title">Conflicts: both versions kept</h3>
          <p className="hint">Each file changed here and elsewhere. Keep one version; the other goes to the trash, and the bucket follows.</p>
          <ul className="plain" aria-labelledby="vault-conflicts-title">
            {state.conflicts.map((c) => <ConflictCard key={`${c.path}\0${c.conflictCopy}`} conflict={c} busy={busy || running} act={act} />)}
          </ul>
        </div>
      )}
      {plaintext.length > 0 && (
        <div className="vault-plaintext" role="group" aria-labelledby="vault-plain-title">
          <h3 id="vault-plain-title">{plaintext.length === 1 ? '1 plaintext file is not synced' : `${plaintext.length} plaintext files are not synced`}</h3>
          <p className="hint">
            Only <code>.kenv</code> files leave this computer. Encrypt {plaintext.length === 1 ? 'it' : 'them'} to sync {plaintext.length === 1 ? 'it' : 'them'}; each original goes to the trash once its <code>.kenv</code> reads back.
          </p>
          <div className="vault-actions">
            <button type="button" className="primary" disabled={keyIds.length === 0 || encrypting} onClick={() => void encryptThem()}>
              {keyText ? `Encrypt them with ${keyText}` : 'Encrypt them'}
            </button>
            {keyIds.length === 0 && <span className="hint">Choose a key in the key list first.</span>}
          </div>
        </div>
      )}
      {state.files && <FileList files={state.files.files} total={state.files.total} progress={progress} reveal={reveal} />}
      <div className="vault-actions">
        <button type="button" className="primary" disabled={busy || running} onClick={() => void act(() => call('vault:syncNow', {}))}>Sync now</button>
        {binding.paused ? (
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => call('vault:resume', {}))}>Resume</button>
        ) : (
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => call('vault:pause', {}))}>Pause</button>
        )}
        <button type="button" className="ghost" disabled={busy} onClick={() => void act(() => call('vault:unbind', {}))}>Unbind…</button>
      </div>
      <VaultCheck />
    </>
  );
}

function Version({ label, name, version }: { label: string; name: string; version: ConflictVersion | undefined }) {
  return (
    <div className="vault-version">
      <h5>{label}</h5>
      <code className="wrap">{name}</code>
      {version ? <span>{formatBytes(version.size)} · saved here {when(version.modifiedAt)}</span> : <span className="muted">No longer readable</span>}
    </div>
  );
}

/** One conflict: both versions side by side, with time and size, and a button to keep each. */
function ConflictCard({ conflict, busy, act }: { conflict: VaultConflict; busy: boolean; act: (w: () => Promise<VaultState>) => Promise<void> }) {
  const keep = (which: 'this' | 'other') => void act(() => call('vault:resolveConflict', { path: conflict.path, keep: which }));
  return (
    <li className="vault-conflict" aria-label={`Conflict: ${conflict.path}`}>
      <h4>{conflict.path}</h4>
      <div className="vault-versions">
        <div>
          <Version label="This computer" name={conflict.path} version={conflict.local} />
          <button type="button" className="secondary small" disabled={busy || !conflict.local} onClick={() => keep('this')} aria-label={`Keep this computer's version of ${conflict.path}`}>Keep this computer's version</button>
        </div>
        <div>
          <Version label="The other version" name={conflict.conflictCopy} version={conflict.other} />
          <button type="button" className="secondary small" disabled={busy || !conflict.other} onClick={() => keep('other')} aria-label={`Keep the other version of ${conflict.path}`}>Keep the other version</button>
        </div>
      </div>
    </li>
  );
}

const FILE_STATE: Record<VaultFile['state'], string> = {
  synced: 'Synced',
  upload: 'To upload',
  download: 'To download',
  conflict: 'Conflict',
  plaintext: 'Plaintext: not synced',
  skipped: 'Skipped',
  failed: 'Failed',
};

/** The folder's files with their state; rows being transferred show their progress live. */
function FileList({ files, total, progress, reveal }: { files: VaultFile[]; total: number; progress: Map<string, SyncProgress>; reveal: (path: string) => void }) {
  const titleId = useId();
  const [all, setAll] = useState(false);
  const shown = all ? files : files.slice(0, 12);
  return (
    <div className="vault-files">
      <h3 id={titleId}>Files <span className="muted">({total})</span></h3>
      {total === 0 ? <p className="hint">The folder and the bucket hold no files yet.</p> : (
        <ul className="plain" aria-labelledby={titleId}>
          {shown.map((f) => {
            const live = progress.get(f.path);
            const percent = live && live.bytesTotal > 0 ? Math.round((live.bytesDone / live.bytesTotal) * 100) : null;
            const stateText = live ? `${live.kind === 'download' ? 'Downloading' : 'Uploading'}${percent !== null ? ` ${percent}%` : '…'}` : FILE_STATE[f.state];
            return (
              <li key={f.path} className={`vault-file ${f.state}`} aria-label={`${f.path}: ${stateText}`}>
                <span className="vault-file-name"><code>{f.path}</code></span>
                <span className={`vault-file-state ${f.state}`}>{stateText}</span>
                <span className="vault-file-size muted">{f.size !== null ? formatBytes(f.size) : ''}</span>
                {f.state !== 'download' && (
                  <button type="button" className="ghost small" onClick={() => reveal(f.path)} aria-label={`Reveal ${f.path} in folder`}>Reveal</button>
                )}
                {f.detail && <span className="vault-file-detail hint">{f.detail}</span>}
                {live && (
                  <div className="progress" role="progressbar" aria-label={`${live.kind === 'download' ? 'Downloading' : 'Uploading'} ${f.path}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent ?? undefined}>
                    <div className="bar" style={{ width: `${percent ?? 0}%` }} />
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {files.length > 12 && (
        <button type="button" className="link" aria-expanded={all} onClick={() => setAll((v) => !v)}>{all ? 'Show fewer' : `Show all ${files.length}`}</button>
      )}
      {total > files.length && <p className="hint">and {total - files.length} more synced files not listed.</p>}
    </div>
  );
}

/**
 * Check vault: every .kenv in the folder authenticated (data key, frames, signature) without writing plaintext,
 * with one line per file that failed and the code decrypt would give.
 */
function VaultCheck() {
  const [checking, setChecking] = useState(false);
  const [results, setResults] = useState<VerifiedFile[] | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const check = async () => {
    setChecking(true);
    setError(null);
    try {
      setResults(await call('vault:verify', {}));
    } catch (e) {
      setResults(null);
      setError(errorInfo(e));
    } finally {
      setChecking(false);
    }
  };
  const failed = results?.filter((r) => !r.ok) ?? [];
  return (
    <div className="vault-check">
      <button type="button" className="secondary" disabled={checking} onClick={() => void check()}>
        {checking ? 'Checking…' : 'Check vault'}
      </button>
      <span className="hint"> Authenticates every file with its key; writes no plaintext.</span>
      {error && <p className="error-text" role="alert">{error.message}</p>}
      {results && (
        <div role="status" aria-live="polite">
          <p className={failed.length ? 'error-text' : ''}>
            {failed.length === 0 ? `All ${results.length} files verified.` : `${failed.length} of ${results.length} files did not verify.`}
          </p>
          <ul className="plain" aria-label="Check vault results">
            {results.map((r) => (
              <li key={r.path}>
                {r.ok ? '✓' : '✗'} <code>{r.path}</code>
                {r.error && <span className="error-text"> {r.error.message} [{r.error.code}]</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
const SSE_KEY = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|(?:mrk-)?[0-9a-f-]{32,36})$/i;

/**
 * Binding a folder: checked as you type (the S3 location against S3's bucket naming rules, the Region, the SSE-KMS
 * key), and bound only once the main process has listed the location: a missing bucket or a denied listing comes
 * back here with its reason, and nothing is saved.
 */
function BindForm({ id, busy, act, onError, onCancel }: {
  id: string;
  busy: boolean;
  act: (w: () => Promise<VaultState>) => Promise<void>;
  onError: (e: ErrorInfo) => void;
  onCancel: () => void;
}) {
  const fx = useContext(Fixes);
  const [folder, setFolder] = useState<string | null>(null);
  const [remote, setRemote] = useState('');
  const [profile, setProfile] = useState('');
  const [region, setRegion] = useState('');
  const [sse, setSse] = useState(false);
  const [sseKey, setSseKey] = useState('');
  const [refused, setRefused] = useState<ErrorInfo | null>(null);
  const [checking, setChecking] = useState(false);
  const ids = { folder: useId(), remote: useId(), remoteHint: useId(), remoteError: useId(), profile: useId(), region: useId(), regionError: useId(), sseKey: useId(), sseError: useId(), keys: useId() };

  const chooseFolder = async () => {
    try {
      const chosen = await call('dialog:chooseFolder', {});
      if (chosen) setFolder(chosen);
    } catch (error) {
      onError(errorInfo(error));
    }
  };
  const remoteProblem = remote.trim() === '' ? null : s3LocationProblem(remote);
  const regionProblem = region.trim() === '' || REGION.test(region.trim()) ? null : 'Write the Region like eu-west-1.';
  const sseProblem = !sse ? null : sseKey.trim() === '' ? 'Name the KMS key: alias/name, key id or ARN.' : SSE_KEY.test(sseKey.trim()) ? null : 'Name the KMS key by alias (alias/name), key id or ARN.';
  const missing = folder === null ? 'Choose the folder first.' : remote.trim() === '' ? 'Write the S3 location.' : null;
  const ready = !missing && !remoteProblem && !regionProblem && !sseProblem;
  const profiles = fx.identity?.profiles ?? [];
  const following = fx.identity?.profile ?? 'default';
  const aliases = fx.keys.flatMap((k) => k.aliases).filter((a) => !a.startsWith('alias/aws/'));

  return (
    <form
      id={id}
      className="vault-form"
      aria-label="Set up sync"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!ready || !folder) return;
        setRefused(null);
        setChecking(true);
        void (async () => {
          try {
            await act(async () => {
              try {
                return await call('vault:bind', {
                  folder, remote: remote.trim(),
                  ...(profile ? { profile } : {}),
                  ...(region.trim() ? { region: region.trim() } : {}),
                  ...(sse ? { sseKmsKeyId: sseKey.trim() } : {}),
                });
              } catch (error) {
                // Shown in the form, beside what to change; nothing was bound.
                setRefused(errorInfo(error));
                return call('vault:get', {});
              }
            });
          } finally {
            setChecking(false);
          }
        })();
      }}
    >
      <p className="hint">Bind a folder to an S3 location: its <code>.kenv</code> files sync both ways, plaintext never leaves this computer.</p>
      <div className="field" role="group" aria-labelledby={ids.folder}>
        <span id={ids.folder}>Folder</span>
        <div className="vault-folder">
          <span className={folder ? '' : 'muted'}>{folder ?? 'No folder chosen'}</span>
          <button type="button" className="secondary small" onClick={() => void chooseFolder()}>Choose folder…</button>
        </div>
      </div>
      <label className="field">
        <span>S3 location</span>
        <input
          id={ids.remote} type="text" value={remote} placeholder="s3://bucket/prefix"
          onChange={(e) => { setRemote(e.target.value); setRefused(null); }}
          aria-invalid={remoteProblem !== null}
          aria-describedby={remoteProblem ? ids.remoteError : ids.remoteHint}
          spellCheck={false} autoComplete="off"
        />
      </label>
      {remoteProblem
        ? <p id={ids.remoteError} className="field-error" aria-live="polite">{remoteProblem}</p>
        : <p id={ids.remoteHint} className="hint">Written as s3://bucket/prefix. Kenv lists it before binding.</p>}
      <div className="vault-pair">
        <label className="field">
          <span>AWS profile</span>
          <select id={ids.profile} value={profile} onChange={(e) => setProfile(e.target.value)}>
            <option value="">Same as the identity bar ({following})</option>
            {profiles.map((p) => <option key={p.name} value={p.name}>{p.name}{p.sso ? ' (SSO)' : ''}</option>)}
          </select>
        </label>
        <label className="field">
          <span>Region (optional)</span>
          <input id={ids.region} type="text" value={region} onChange={(e) => setRegion(e.target.value)} aria-invalid={regionProblem !== null}
            {...(regionProblem ? { 'aria-describedby': ids.regionError } : {})} spellCheck={false} autoComplete="off" />
          {regionProblem && <span id={ids.regionError} className="field-error">{regionProblem}</span>}
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={sse} onChange={(e) => setSse(e.target.checked)} />
        <span>Also encrypt in S3 with SSE-KMS (server-side, under a second key)</span>
      </label>
      {sse && (
        <label className="field">
          <span>KMS key for SSE-KMS</span>
          <input id={ids.sseKey} type="text" value={sseKey} list={ids.keys} placeholder="alias/name" onChange={(e) => setSseKey(e.target.value)}
            aria-invalid={sseProblem !== null} {...(sseProblem ? { 'aria-describedby': ids.sseError } : {})} spellCheck={false} autoComplete="off" />
          <datalist id={ids.keys}>{aliases.map((a) => <option key={a} value={a} />)}</datalist>
          {sseProblem && <span id={ids.sseError} className="field-error">{sseProblem}</span>}
        </label>
      )}
      {refused && <p className="error-text" role="alert">{refused.message}</p>}
      <div className="vault-actions">
        <button type="submit" className="primary" disabled={busy || !ready}>{checking ? 'Checking the bucket…' : 'Bind folder'}</button>
        <button type="button" className="ghost" onClick={onCancel}>Cancel</button>
        {missing && <span className="hint">{missing}</span>}
      </div>
    </form>
  );
}

function stateClass(state: VaultState): string {
  if (state.status.state === 'error') return 'error';
  if (state.binding?.paused) return 'paused';
  return state.status.state;
}

function stateLabel(state: VaultState): string {
  if (state.status.state === 'error') return 'Error';
  if (state.status.state === 'scanning') return 'Scanning';
  if (state.status.state === 'syncing') return 'Syncing';
  return state.binding?.paused ? 'Paused' : 'Watching';
}

/** The one status sentence: what the sync is doing, what is pending, or what went wrong and what to do. */
export function statusSentence(status: SyncStatus, paused: boolean, plaintext = 0): string {
  if (status.state === 'error') {
    const [first, ...rest] = status.errors;
    if (!first) return 'The last sync failed. Press Sync now to try again.';
    const where = first.path ? `${first.path}: ` : '';
    return `${where}${first.message}${rest.length ? ` (and ${rest.length} more ${rest.length === 1 ? 'problem' : 'problems'})` : ''}`;
  }
  if (status.state === 'scanning') return 'Scanning the folder and the bucket…';
  const pending = [
    status.toUpload ? `${status.toUpload} to upload` : '',
    status.toDownload ? `${status.toDownload} to download` : '',
  ].filter(Boolean).join(', ');
  if (status.state === 'syncing') return pending ? `Syncing: ${pending}.` : 'Syncing…';
  if (pending) return `${pending[0]!.toUpperCase()}${pending.slice(1)}.`;
  // Plaintext in the folder is never synced: not "Up to date" while it waits there.
  const skipped = plaintext ? ` ${plaintext === 1 ? '1 plaintext file is' : `${plaintext} plaintext files are`} not synced (see below).` : '';
  if (skipped) return `Encrypted files are up to date.${skipped}`;
  return paused ? 'Up to date as of the last sync. Paused: changes sync when you resume or press Sync now.' : 'Up to date. Changes in the folder sync automatically.';
}
