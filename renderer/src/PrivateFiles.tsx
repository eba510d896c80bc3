import { useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { PrivateFile } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';

/** Files opened from a .kenv into a private temporary folder: re-encrypt their changes, then close and wipe. */
export function PrivateFiles({ files, onError }: { files: PrivateFile[]; onError: (e: ErrorInfo) => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  if (files.length === 0) return null;
  const act = async (id: string, p: () => Promise<unknown>) => {
    setBusy(id);
    try {
      await p();
    } catch (error) {
      onError(errorInfo(error));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section className="jobs" aria-labelledby="private-title">
      <h2 id="private-title">Open files</h2>
      <div className="batch">
        <ul className="job-list">
          {files.map((f) => {
            const kenvName = f.kenvPath.split(/[\\/]/).pop();
            return (
              <li key={f.id} className="job" aria-label={`Open file ${f.name}`}>
                <div className="job-main">
                  <span className="badge">Open</span>
                  <span className="job-name">{f.name}</span>
                  <span className="job-state">{f.edited ? 'Changed' : 'Unchanged'}</span>
                </div>
                <div className="job-meta">
                  <span>
                    {f.edited
                      ? `Saved changes are only in the private copy until you re-encrypt them into ${kenvName}.`
                      : `Decrypted from ${kenvName} into a private folder that is wiped when you close it or quit Kenv.`}
                  </span>
                  {f.edited && f.canReencrypt && (
                    <button type="button" className="primary small" disabled={busy === f.id} onClick={() => void act(f.id, () => call('private:reencrypt', { id: f.id }))}>
                      Re-encrypt into {kenvName}
                    </button>
                  )}
                  <button type="button" className="ghost small" disabled={busy === f.id} onClick={() => void act(f.id, () => call('private:close', { id: f.id }))}>
                    {f.edited ? 'Discard changes and wipe' : 'Close and wipe'}
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}
