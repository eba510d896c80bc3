import { useEffect, useId, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { SyncStatus } from '../../shared/sync.js';
import type { VaultState } from '../../shared/vault.js';
import type { VerifiedFile } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import './vault-panel.css';

/**
 * The vault panel: one folder bound to an S3 prefix, its sync status, pending counts and conflicts, and the
 * controls (Sync now, Pause/Resume, Unbind). Everything goes through the `vault:*` channels; status arrives as
 * `vault:status` events.
 */
export function VaultPanel({ onError }: { onError: (e: ErrorInfo) => void }) {
  const [state, setState] = useState<VaultState | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    const off = window.kenv.on('vault:status', (s) => setState(s));
    call('vault:get', {}).then((s) => { if (live) setState((prev) => prev ?? s); }, (error: unknown) => onError(errorInfo(error)));
    return () => {
      live = false;
      off();
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
        {state?.binding && <span className={`status vault-${stateClass(state)}`}><span className="dot" aria-hidden="true" />{stateLabel(state)}</span>}
      </div>
      {!state ? (
        <p className="muted" aria-live="polite">Loading the vault binding…</p>
      ) : state.binding ? (
        <BoundVault state={state} busy={busy} act={act} />
      ) : (
        <BindForm busy={busy} act={act} onError={onError} />
      )}
    </section>
  );
}

function BoundVault({ state, busy, act }: { state: VaultState; busy: boolean; act: (w: () => Promise<VaultState>) => Promise<void> }) {
  const binding = state.binding!;
  const { status } = state;
  const running = status.state === 'scanning' || status.state === 'syncing';
  return (
    <>
      <dl className="vault-facts">
        <dt>Folder</dt><dd><code>{binding.folder}</code></dd>
        <dt>S3 location</dt><dd><code>{binding.remote}</code></dd>
        <dt>Profile</dt><dd>{binding.profile ?? 'Default AWS credentials'}</dd>
        <dt>Region</dt><dd>{binding.region ?? 'From the profile'}</dd>
        <dt>Last sync</dt><dd>{status.lastSyncAt ? new Date(status.lastSyncAt).toLocaleString() : 'Not synced yet'}</dd>
      </dl>
      <p className={`vault-line${status.state === 'error' ? ' error-text' : ''}`} role="status" aria-live="polite">
        {statusSentence(status, binding.paused)}
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
          <p className="hint">Each file changed here and elsewhere. Keep one version by deleting or renaming the other; the list updates after the next sync.</p>
          <ul className="plain" aria-labelledby="vault-conflicts-title">
            {state.conflicts.map((c) => (
              <li key={`${c.path}\0${c.conflictCopy}`}>
                <code>{c.path}</code> (this computer) and <code>{c.conflictCopy}</code> (the other version)
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="vault-actions">
        <button type="button" className="primary" disabled={busy || running} onClick={() => void act(() => call('vault:syncNow', {}))}>Sync now</button>
        {binding.paused ? (
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => call('vault:resume', {}))}>Resume</button>
        ) : (
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => call('vault:pause', {}))}>Pause</button>
        )}
        <button type="button" className="ghost" disabled={busy} onClick={() => void act(() => call('vault:unbind', {}))}>Unbind</button>
      </div>
      <VaultCheck />
    </>
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

function BindForm({ busy, act, onError }: { busy: boolean; act: (w: () => Promise<VaultState>) => Promise<void>; onError: (e: ErrorInfo) => void }) {
  const [folder, setFolder] = useState<string | null>(null);
  const [remote, setRemote] = useState('');
  const [profile, setProfile] = useState('');
  const [region, setRegion] = useState('');
  const ids = { folder: useId(), remote: useId(), remoteHint: useId(), profile: useId(), region: useId() };

  const chooseFolder = async () => {
    try {
      const chosen = await call('dialog:chooseFolder', {});
      if (chosen) setFolder(chosen);
    } catch (error) {
      onError(errorInfo(error));
    }
  };
  const ready = folder !== null && remote.trim().startsWith('s3://');

  return (
    <form
      className="vault-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ready) return;
        void act(() => call('vault:bind', {
          folder, remote: remote.trim(),
          ...(profile.trim() ? { profile: profile.trim() } : {}),
          ...(region.trim() ? { region: region.trim() } : {}),
        }));
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
        <input id={ids.remote} type="text" value={remote} onChange={(e) => setRemote(e.target.value)} aria-describedby={ids.remoteHint} spellCheck={false} autoComplete="off" />
      </label>
      <p id={ids.remoteHint} className="hint">Written as s3://bucket/prefix.</p>
      <div className="vault-pair">
        <label className="field">
          <span>AWS profile (optional)</span>
          <input id={ids.profile} type="text" value={profile} onChange={(e) => setProfile(e.target.value)} spellCheck={false} autoComplete="off" />
        </label>
        <label className="field">
          <span>Region (optional)</span>
          <input id={ids.region} type="text" value={region} onChange={(e) => setRegion(e.target.value)} spellCheck={false} autoComplete="off" />
        </label>
      </div>
      <div className="vault-actions">
        <button type="submit" className="primary" disabled={busy || !ready}>Bind folder</button>
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
export function statusSentence(status: SyncStatus, paused: boolean): string {
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
  return paused ? 'Up to date as of the last sync. Paused: changes sync when you resume or press Sync now.' : 'Up to date. Changes in the folder sync automatically.';
}
