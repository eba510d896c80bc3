import { useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { KeySummary, OutputLocation, Settings } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { Modal } from './Modal.js';

const MIB = 1024 * 1024;

export function SettingsDialog({ settings, keys, onClose, onSaved }: { settings: Settings; keys: KeySummary[]; onClose: () => void; onSaved: (s: Settings) => void }) {
  const [draft, setDraft] = useState<Settings>(settings);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<Settings>) => setDraft((d) => ({ ...d, ...patch }));
  const duplicateKey = new Set(draft.context.map((p) => p.key)).size !== draft.context.length;
  const emptyKey = draft.context.some((p) => p.key.trim() === '');
  const needsFolder = draft.outputLocation === 'vault-folder' && !draft.vaultFolder;
  const [trustedText, setTrustedText] = useState((settings.trustedAccounts ?? []).join(', '));
  const trusted = trustedText.split(/[\s,]+/).filter(Boolean);
  const badAccount = trusted.find((a) => !/^\d{12}$/.test(a));

  const chooseVault = async () => {
    try {
      const folder = await call('dialog:chooseFolder', {});
      if (folder) set({ vaultFolder: folder });
    } catch (e) {
      setError(errorInfo(e));
    }
  };

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      onSaved(await call('settings:update', { ...draft, trustedAccounts: [...new Set(trusted)] }));
    } catch (e) {
      setError(errorInfo(e));
    } finally {
      setSaving(false);
    }
  };

  const locations: [OutputLocation, string, string][] = [
    ['next-to-file', 'Next to the original file', 'report.pdf becomes report.pdf.kenv in the same folder.'],
    ['vault-folder', 'In the vault folder', draft.vaultFolder ?? 'No folder chosen yet.'],
    ['ask', 'Ask every time', 'Kenv asks for a folder before each batch.'],
  ];

  return (
    <Modal title="Settings" onClose={onClose} wide>
      <form className="settings" onSubmit={(e) => { e.preventDefault(); void save(); }}>
        <fieldset>
          <legend>Save encrypted and decrypted files</legend>
          {locations.map(([value, label, hint]) => (
            <label key={value} className="choice">
              <input type="radio" name="output" checked={draft.outputLocation === value} onChange={() => set({ outputLocation: value })} />
              <span><span>{label}</span><span className="hint">{hint}</span></span>
            </label>
          ))}
          {draft.outputLocation === 'vault-folder' && (
            <button type="button" className="secondary small" onClick={() => void chooseVault()}>{draft.vaultFolder ? 'Change vault folder…' : 'Choose vault folder…'}</button>
          )}
        </fieldset>

        <fieldset>
          <legend>After encrypting</legend>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.deletePlaintextAfterEncrypt}
              onChange={(e) => set({ deletePlaintextAfterEncrypt: e.target.checked })}
            />
            <span>Move the original file to the trash once its .kenv is written and verified</span>
          </label>
          {draft.deletePlaintextAfterEncrypt && !settings.deletePlaintextAfterEncrypt && (
            <p className="hint">Kenv asks you to confirm this when you save. Without access to the KMS key, nobody can open the .kenv files, not even you.</p>
          )}
        </fieldset>

        <fieldset>
          <legend>Encryption context</legend>
          <p className="hint">Pairs stored in every file you encrypt and sent to KMS, where key policies and CloudTrail can see them. They are not secret.</p>
          <label className="check">
            <input type="checkbox" checked={draft.fileId !== false} onChange={(e) => set({ fileId: e.target.checked })} />
            <span>Add a random audit id (kenv:file-id) to each file, so CloudTrail shows which file was opened, by whom and when</span>
          </label>
          {draft.context.map((pair, i) => (
            <div className="pair" key={i}>
              <label className="field inline"><span>Name</span>
                <input value={pair.key} onChange={(e) => set({ context: draft.context.map((p, j) => (j === i ? { ...p, key: e.target.value } : p)) })} aria-label={`Context name ${i + 1}`} />
              </label>
              <label className="field inline"><span>Value</span>
                <input value={pair.value} onChange={(e) => set({ context: draft.context.map((p, j) => (j === i ? { ...p, value: e.target.value } : p)) })} aria-label={`Context value ${i + 1}`} />
              </label>
              <button type="button" className="ghost small" onClick={() => set({ context: draft.context.filter((_, j) => j !== i) })} aria-label={`Remove context pair ${i + 1}`}>Remove</button>
            </div>
          ))}
          {duplicateKey && <p className="error-text">Each name may appear only once.</p>}
          <button type="button" className="secondary small" onClick={() => set({ context: [...draft.context, { key: '', value: '' }] })}>Add a pair</button>
        </fieldset>

        <fieldset>
          <legend>Data key cache</legend>
          <p className="hint">Files encrypted or decrypted together reuse a data key to save KMS calls, within these limits. 0 seconds turns reuse off.</p>
          <div className="grid3">
            <label className="field"><span>Seconds to keep a key</span>
              <input type="number" min={0} max={86400} value={draft.cache.maxAgeSeconds} onChange={(e) => set({ cache: { ...draft.cache, maxAgeSeconds: Number(e.target.value) } })} />
            </label>
            <label className="field"><span>Files per key</span>
              <input type="number" min={0} max={1000000} value={draft.cache.maxMessages} onChange={(e) => set({ cache: { ...draft.cache, maxMessages: Number(e.target.value) } })} />
            </label>
            <label className="field"><span>MiB per key</span>
              <input type="number" min={0} value={Math.round(draft.cache.maxBytes / MIB)} onChange={(e) => set({ cache: { ...draft.cache, maxBytes: Number(e.target.value) * MIB } })} />
            </label>
          </div>
        </fieldset>

        <fieldset>
          <legend>Opening files</legend>
          <p className="hint">A file may name many data keys, and opening each can be a KMS call logged under your name. Files with more are refused before any call.</p>
          <label className="field"><span>Most data keys per file</span>
            <input type="number" min={1} max={65535} value={draft.maxDataKeys} onChange={(e) => set({ maxDataKeys: Number(e.target.value) })} />
          </label>
        </fieldset>

        <fieldset>
          <legend>Default keys</legend>
          <p className="hint">Selected when Kenv starts and used when no key is chosen.</p>
          {keys.filter((k) => k.enabled).length === 0 ? <p className="muted">No keys to choose from with this identity.</p> : (
            <div className="key-list compact">
              {keys.filter((k) => k.enabled).map((k) => (
                <label key={k.arn} className="check">
                  <input
                    type="checkbox"
                    checked={draft.defaultKeyIds.includes(k.arn)}
                    onChange={(e) => set({ defaultKeyIds: e.target.checked ? [...draft.defaultKeyIds, k.arn] : draft.defaultKeyIds.filter((x) => x !== k.arn) })}
                  />
                  <span>{k.aliases[0]?.replace(/^alias\//, '') ?? k.keyId}</span>
                </label>
              ))}
            </div>
          )}
        </fieldset>

        <fieldset>
          <legend>Trusted accounts</legend>
          <p className="hint">
            Opening a file asks KMS only about keys in your own AWS account and in these accounts. A file naming a key of any other
            account is refused before any KMS call: asking would show who you are in that account&apos;s CloudTrail.
          </p>
          <label className="field"><span>Account ids (12 digits, separated by commas)</span>
            <input value={trustedText} onChange={(e) => setTrustedText(e.target.value)} placeholder="444455556666, 777788889999" />
          </label>
          {badAccount && <p className="error-text">&quot;{badAccount}&quot; is not an AWS account id: give 12 digits.</p>}
        </fieldset>

        {error && <p className="error-text" role="alert">{error.message}</p>}
        {needsFolder && <p className="error-text">Choose a vault folder, or pick another place to save files.</p>}
        <div className="actions">
          <button type="button" className="ghost" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={saving || duplicateKey || emptyKey || needsFolder || !!badAccount}>Save settings</button>
        </div>
      </form>
    </Modal>
  );
}
