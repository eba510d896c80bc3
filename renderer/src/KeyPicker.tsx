import { useId, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { Identity, KeySummary } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { noIdentitySentence } from './explain.js';
import { formatAccount } from './format.js';

export interface KeyChoice {
  primary: string | null;
  extra: string[];
}

function keyName(k: KeySummary): string {
  return k.aliases[0]?.replace(/^alias\//, '') ?? k.keyId;
}

/** The KMS key catalogue: pick the key to encrypt under, optionally extra backup keys. */
export function KeyPicker({ keys, error, identity, choice, onChoice, onReload }: {
  keys: KeySummary[] | null;
  error: ErrorInfo | null;
  identity: Identity | null;
  choice: KeyChoice;
  onChoice: (c: KeyChoice) => void;
  onReload: () => void;
}) {
  const [filter, setFilter] = useState('');
  const [showBackup, setShowBackup] = useState(choice.extra.length > 0);
  const filterId = useId();
  const usable = (keys ?? []).filter((k) => k.enabled && !k.keySpec);
  const recipients = (keys ?? []).filter((k) => k.enabled && k.keySpec);
  const [exported, setExported] = useState<{ arn: string; text: string; error: boolean } | null>(null);
  const exportRecipient = async (k: KeySummary) => {
    try {
      const saved = await call('keys:exportRecipient', { keyArn: k.arn });
      if (saved) setExported({ arn: k.arn, text: `Saved ${saved.path}. Send it to the people who should encrypt for this key.`, error: false });
    } catch (e) {
      setExported({ arn: k.arn, text: errorInfo(e).message, error: true });
    }
  };
  const needle = filter.trim().toLowerCase();
  const shown = usable.filter((k) => !needle || [k.keyId, k.arn, k.description, ...k.aliases].some((s) => s.toLowerCase().includes(needle)));
  const where = identity ? `${identity.profile ?? 'default'} · ${identity.account ? formatAccount(identity.account) : 'unknown account'} · ${identity.region ?? 'no Region'}` : '';

  return (
    <>
      <div className="panel-head">
        <h2 id="keys-title">Encryption key</h2>
        <button type="button" className="ghost small" onClick={onReload} aria-label="Reload the key list">Reload</button>
      </div>
      {where && <p className="muted small-text" aria-label="Keys listed for">{where}</p>}
      {keys === null && <p className="muted" aria-live="polite">Loading keys…</p>}
      {keys !== null && error && identity && identity.status !== 'signed-in' && (
        <div className="empty" role="status">
          <p className="empty-title">{identity.status === 'expired' ? 'Sign in to see your keys' : 'No AWS identity to list keys with'}</p>
          <p>{identity.status === 'expired'
            ? 'Your keys appear here once the SSO session is renewed.'
            : identity.status === 'no-credentials' ? noIdentitySentence(identity)
            : identity.error?.message ?? 'Configure AWS credentials for a profile, then choose Reload.'}</p>
        </div>
      )}
      {keys !== null && error && (!identity || identity.status === 'signed-in') && (
        <div className="empty" role="status">
          <p className="empty-title">The key list could not be loaded</p>
          <p>{error.message}</p>
        </div>
      )}
      {keys !== null && !error && usable.length === 0 && (
        <div className="empty" role="status">
          <p className="empty-title">No usable KMS keys</p>
          <p>This identity sees no enabled symmetric KMS key in {identity?.region ?? 'this Region'}. Ask your AWS administrator for a key and for kms:ListKeys, kms:ListAliases and kms:DescribeKey on it, or choose another profile.</p>
        </div>
      )}
      {usable.length > 0 && (
        <>
          <label className="field" htmlFor={filterId}>
            <span>Filter keys</span>
          </label>
          <input id={filterId} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} autoComplete="off" spellCheck={false} />
          <fieldset className="key-list">
            <legend className="visually-hidden">Encrypt new files under</legend>
            {shown.length === 0 && <p className="muted">No key matches “{filter}”.</p>}
            {shown.map((k) => (
              <label key={k.arn} className={`key${choice.primary === k.arn || choice.primary === k.keyId ? ' selected' : ''}`}>
                <input
                  type="radio"
                  name="primary-key"
                  aria-label={keyName(k)}
                  aria-describedby={`key-desc-${k.keyId}`}
                  checked={choice.primary === k.arn || choice.primary === k.keyId}
                  onChange={() => onChoice({ primary: k.arn, extra: choice.extra.filter((x) => x !== k.arn) })}
                />
                <span className="key-text" id={`key-desc-${k.keyId}`}>
                  <span className="key-name">{keyName(k)}</span>
                  {k.description && <span className="key-desc">{k.description}</span>}
                  <span className="key-id">{k.keyId} · {k.region}</span>
                </span>
              </label>
            ))}
          </fieldset>
          {usable.length > 1 && (
            <div className="backup">
              <label className="check">
                <input type="checkbox" checked={showBackup} onChange={(e) => { setShowBackup(e.target.checked); if (!e.target.checked) onChoice({ ...choice, extra: [] }); }} />
                <span>Also encrypt under a backup key</span>
              </label>
              {showBackup && (
                <fieldset className="key-list compact">
                  <legend className="visually-hidden">Backup keys</legend>
                  {usable.filter((k) => k.arn !== choice.primary).map((k) => (
                    <label key={k.arn} className="check">
                      <input
                        type="checkbox"
                        checked={choice.extra.includes(k.arn)}
                        onChange={(e) => onChoice({ ...choice, extra: e.target.checked ? [...choice.extra, k.arn] : choice.extra.filter((x) => x !== k.arn) })}
                      />
                      <span>{keyName(k)}</span>
                    </label>
                  ))}
                </fieldset>
              )}
            </div>
          )}
        </>
      )}
      {recipients.length > 0 && (
        <section className="recipients" aria-labelledby="recipients-title">
          <h3 id="recipients-title">For people without AWS</h3>
          <p className="hint">
            RSA keys: export a recipient file and send it. Anyone holding it can encrypt files only this key opens (kenv encrypt
            --recipient), without AWS; such a file proves nothing about who sent it.
          </p>
          <ul className="plain">
            {recipients.map((k) => (
              <li key={k.arn} className="recipient">
                <span className="key-text">
                  <span className="key-name">{keyName(k)}</span>
                  <span className="key-id">{k.keySpec} · {k.keyId} · {k.region}</span>
                </span>
                <button type="button" className="secondary small" onClick={() => void exportRecipient(k)} aria-label={`Export recipient file for ${keyName(k)}`}>
                  Export recipient file
                </button>
                {exported?.arn === k.arn && <p className={exported.error ? 'error-text' : 'muted'} role="status">{exported.text}</p>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
