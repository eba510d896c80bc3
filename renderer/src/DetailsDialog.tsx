import { useEffect, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { FileDetails, Identity, KeySummary, OpenCheck, PlannedFile } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { formatBytes, suiteLabel } from './format.js';
import { Modal } from './Modal.js';

function count(n: number): string {
  return `${n} ${n === 1 ? 'file' : 'files'}`;
}

function isError(d: FileDetails | ErrorInfo | undefined): d is ErrorInfo {
  return !!d && 'code' in d;
}

/** How many files of a batch get the access check: each is one KMS Decrypt (DryRun) or more. */
const ACCESS_CHECKS = 5;

/** Says up front whether this identity can open the file: KMS Decrypt with DryRun, no key returned. */
function AccessLine({ path, hint }: { path: string; hint: string }) {
  const [check, setCheck] = useState<OpenCheck | ErrorInfo | null>(null);
  useEffect(() => {
    let live = true;
    call('files:canOpen', { path }).then(
      (c) => live && setCheck(c),
      (e: unknown) => live && setCheck(errorInfo(e)),
    );
    return () => {
      live = false;
    };
  }, [path]);
  if (!check) return <span className="muted">Asking KMS…</span>;
  // KMS could not be asked (throttled, offline…): the key list's hint, saying what it is.
  if ('code' in check) return <span>KMS could not be asked ({check.message.replace(/\.$/, '')}). {hint}</span>;
  if (check.canOpen) return <span>Yes: KMS says this identity may decrypt it.</span>;
  const why = check.keys.find((k) => !k.ok)?.reason;
  return <span className="error-text" role="alert">No: this identity cannot open this file.{why ? ` ${why}` : ''}</span>;
}

/** What a .kenv is before anything happens: keys, context, size, suite. Read from the header; no KMS call. */
export function DetailsDialog({ files, details, keys, keyChosen, identity, outputFolder, onCancel, onStart, onOpen }: {
  files: PlannedFile[];
  identity?: Identity | null;
  /** Where "Decrypt" writes: a folder, next to each file, or null when the settings say to ask. */
  outputFolder?: string | 'next-to-file' | null;
  keys: KeySummary[];
  details: Record<string, FileDetails | ErrorInfo>;
  keyChosen: boolean;
  onCancel: () => void;
  onStart: (outDir: string | null) => void;
  /** Decrypt into a private temporary folder and open with the default app. */
  onOpen: (path: string) => void;
}) {
  const [error, setError] = useState<ErrorInfo | null>(null);
  const sealed = files.filter((f) => f.direction === 'decrypt');
  const plain = files.filter((f) => f.direction === 'encrypt');
  const unreadable = sealed.filter((f) => isError(details[f.path]));
  const readable = sealed.filter((f) => !isError(details[f.path]));
  const nothingToDo = plain.length === 0 && readable.length === 0;
  const blocked = (plain.length > 0 && !keyChosen) || nothingToDo;
  const folderOf = (p: string) => p.replace(/[\\/][^\\/]*$/, '') || p;
  const where = outputFolder === undefined || outputFolder === 'next-to-file'
    ? (files.length > 0 && files.every((f) => folderOf(f.path) === folderOf(files[0]!.path)) ? folderOf(files[0]!.path) : 'next to each file')
    : outputFolder === null ? 'a folder you choose next' : outputFolder;
  const title = sealed.length === 1 && plain.length === 0 ? `Decrypt ${sealed[0]!.name}?`
    : plain.length === 0 ? `Decrypt ${count(sealed.length)}?` : `Decrypt ${count(sealed.length)} and encrypt ${count(plain.length)}?`;

  const chooseFolder = async () => {
    try {
      const folder = await call('dialog:chooseFolder', {});
      if (folder) onStart(folder);
    } catch (e) {
      setError(errorInfo(e));
    }
  };

  return (
    <Modal title={title} onClose={onCancel} wide>
      <div className="details-list">
        {sealed.map((f) => {
          const d = details[f.path];
          return (
            <article key={f.path} className="details" aria-label={`Details of ${f.name}`}>
              <h3>{f.name}</h3>
              {isError(d) ? (
                <p className="error-text" role="alert">{d.message}</p>
              ) : d ? (
                <dl>
                  <dt>Size</dt><dd>{formatBytes(d.size)}</dd>
                  <dt>Algorithm</dt><dd>{suiteLabel(d.suiteId, d.signed)}</dd>
                  <dt>{d.keys.length === 1 ? 'Key' : `Keys (${d.keys.length}, any one opens it)`}</dt>
                  <dd>
                    <ul className="plain">
                      {d.keys.map((k, i) => {
                        const known = keys.find((c) => c.arn === k.keyArn);
                        return (
                          <li key={i} className="edk">
                            {known?.aliases[0] && <span className="edk-alias">{known.aliases[0].replace(/^alias\//, '')}</span>}
                            <code>{k.keyArn ?? k.keyName ?? k.providerId}</code>
                            {k.providerId !== 'aws-kms' && <span className="muted"> ({k.providerId})</span>}
                          </li>
                        );
                      })}
                    </ul>
                  </dd>
                  {d.keys.some((k) => k.providerId === 'aws-kms-rsa') && (
                    <dd className="warning" role="note">
                      Made for an RSA key (a recipient file): anyone holding the public key can make such a file, so it proves nothing
                      about who sent it.
                    </dd>
                  )}
                  <dt>Encryption context</dt>
                  <dd>
                    {Object.keys(d.encryptionContext).filter((k) => k !== 'aws-crypto-public-key').length === 0 ? <span className="muted">None</span> : (
                      <ul className="plain">
                        {Object.entries(d.encryptionContext).filter(([k]) => k !== 'aws-crypto-public-key').map(([k, v]) => <li key={k}><code>{k}</code> = <code>{v}</code></li>)}
                      </ul>
                    )}
                  </dd>
                  <dt>Message id</dt><dd><code className="wrap">{d.messageId}</code></dd>
                  <dt>Audit id</dt>
                  <dd>
                    {d.encryptionContext['kenv:file-id'] ? (
                      <><code className="wrap">{d.encryptionContext['kenv:file-id']}</code> <span className="muted">(in CloudTrail with every KMS Decrypt; kenv audit prints the lookups)</span></>
                    ) : <span className="muted">None</span>}
                  </dd>
                  <dt>Can you open it?</dt>
                  <dd className="can-open">
                    {sealed.indexOf(f) < ACCESS_CHECKS && d.keys.some((k) => k.providerId === 'aws-kms') && (!identity || identity.status === 'signed-in')
                      ? <AccessLine path={f.path} hint={canOpen(d, keys, identity ?? null)} />
                      : canOpen(d, keys, identity ?? null)}
                  </dd>
                </dl>
              ) : (
                <p className="muted">Details are shown for the first 20 files only.</p>
              )}
            </article>
          );
        })}
        {plain.length > 0 && (
          <article className="details" aria-label="Files to encrypt">
            <h3>To encrypt</h3>
            <ul className="plain">
              {plain.slice(0, 10).map((f) => <li key={f.path}>{f.name} <span className="muted">· {formatBytes(f.size)}</span></li>)}
              {plain.length > 10 && <li className="muted">and {plain.length - 10} more</li>}
            </ul>
          </article>
        )}
      </div>
      <footer className="modal-footer">
      {!nothingToDo && <p className="muted where">Saves to <strong className="wrap">{where}</strong></p>}
      {unreadable.length > 0 && !nothingToDo && <p className="muted">Files that cannot be read are skipped.</p>}
      {nothingToDo && <p className="error-text" role="alert">{sealed.length === 1 ? 'This file cannot' : 'None of these files can'} be read as a .kenv, so there is nothing to decrypt.</p>}
      {plain.length > 0 && !keyChosen && <p className="error-text" role="alert">Choose an encryption key first: this batch has files to encrypt.</p>}
      {error && <p className="error-text" role="alert">{error.message}</p>}
      <div className="actions">
        <button type="button" className="ghost" onClick={onCancel}>Cancel</button>
        {sealed.length === 1 && plain.length === 0 && unreadable.length === 0 && (
          <button type="button" className="secondary" onClick={() => onOpen(sealed[0]!.path)} title="Decrypt into a private folder, open it, and wipe it when you are done">Open without saving</button>
        )}
        <button type="button" className="secondary" disabled={blocked} onClick={() => void chooseFolder()}>Save to a folder…</button>
        <button type="button" className="primary" disabled={blocked} data-default onClick={() => onStart(null)}>
          {plain.length === 0 ? 'Decrypt' : 'Start'}
        </button>
      </div>
      </footer>
    </Modal>
  );
}

/**
 * Whether this identity can likely open the file, from the header and the identity's key list (no KMS call):
 * a key it lists and that is enabled is a strong hint; KMS decides when Decrypt is pressed.
 */
function canOpen(d: FileDetails, keys: KeySummary[], identity: Identity | null): string {
  if (identity && identity.status !== 'signed-in') return 'Sign in first; then Kenv can tell.';
  const usable = d.keys.map((k) => keys.find((c) => c.arn === k.keyArn)).filter((k): k is KeySummary => !!k && k.enabled);
  if (usable.length > 0) {
    const name = usable[0]!.aliases[0]?.replace(/^alias\//, '') ?? usable[0]!.keyId.slice(0, 8);
    return `Yes, most likely: it was encrypted for ${name}, which ${identity?.role ? `your role ${identity.role}` : 'this identity'} can see.`;
  }
  if (d.keys.some((k) => k.providerId !== 'aws-kms')) return 'It names a key that is not in AWS KMS; Kenv will try the keys it has.';
  return 'Probably not: none of its keys is in your key list. Decrypting will likely be refused.';
}
