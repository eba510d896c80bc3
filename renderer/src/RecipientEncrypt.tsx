import { useEffect, useRef, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { Job, RecipientInfo } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { Modal } from './Modal.js';
import './recipient.css';

function accountAndRegion(arn: string): { account: string; region: string } {
  const parts = arn.split(':');
  return { account: parts[4] ?? '', region: parts[3] ?? '' };
}

function stateText(job: Job): string {
  switch (job.state) {
    case 'done': return `Encrypted: ${job.outputPath?.replace(/^.*[\\/]/, '') ?? ''}`;
    case 'failed': return `Failed: ${job.error?.message ?? 'unknown error'}`;
    case 'cancelled': return 'Cancelled';
    case 'running': return job.bytesTotal ? `Encrypting… ${Math.floor((job.bytesDone / job.bytesTotal) * 100)}%` : 'Encrypting…';
    default: return 'Waiting';
  }
}

/**
 * *Encrypt for a recipient…*: files for the holder of an RSA KMS key, made with the public key in the recipient
 * file they sent. Needs no sign-in and no network (no KMS call); only whoever may use that KMS key can open the
 * results, which is why the sender cannot, and why such a file proves nothing about who sent it.
 *
 * While the dialog is open it takes every drop itself (the main window's drop would encrypt under the chosen KMS
 * key instead): before a recipient is chosen a dropped file is read as the recipient file, afterwards as files to
 * encrypt. Paths come only from the main process (dialogs, drops), which checks them again.
 */
export function RecipientEncrypt() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="ghost" onClick={() => setOpen(true)}>Encrypt for a recipient…</button>
      {open && <RecipientDialog onClose={() => setOpen(false)} />}
    </>
  );
}

function RecipientDialog({ onClose }: { onClose: () => void }) {
  const [recipient, setRecipient] = useState<RecipientInfo | null>(null);
  const [files, setFiles] = useState<string[]>([]);
  const [error, setError] = useState<ErrorInfo | null>(null);
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [busy, setBusy] = useState(false);
  const state = useRef({ recipient, jobs });
  state.current = { recipient, jobs };

  const addFiles = (paths: string[]) => setFiles((list) => [...list, ...paths.filter((p) => !list.includes(p))]);

  const chooseRecipient = async () => {
    setError(null);
    try {
      const chosen = await call('recipient:choose', {});
      if (chosen) setRecipient(chosen);
    } catch (e) {
      setError(errorInfo(e));
    }
  };

  const chooseFiles = async () => {
    setError(null);
    try {
      addFiles(await call('dialog:chooseFiles', {}));
    } catch (e) {
      setError(errorInfo(e));
    }
  };

  // Every drop while this dialog is open is the dialog's (see above), caught before the window's own handler.
  useEffect(() => {
    const swallow = (event: DragEvent) => {
      event.preventDefault();
      event.stopPropagation();
    };
    const onDrop = (event: DragEvent) => {
      swallow(event);
      const dropped = [...(event.dataTransfer?.files ?? [])];
      if (dropped.length === 0 || state.current.jobs) return;
      void (async () => {
        setError(null);
        const granted = await window.kenv.dropFiles(dropped);
        if (!granted.ok) {
          setError(granted.error);
          return;
        }
        if (granted.value.length === 0) return;
        if (state.current.recipient) {
          addFiles(granted.value);
          return;
        }
        try {
          setRecipient(await call('recipient:inspect', { path: granted.value[0]! }));
        } catch (e) {
          setError(errorInfo(e));
        }
      })();
    };
    const types = ['dragenter', 'dragover', 'dragleave'] as const;
    for (const type of types) window.addEventListener(type, swallow, true);
    window.addEventListener('drop', onDrop, true);
    return () => {
      for (const type of types) window.removeEventListener(type, swallow, true);
      window.removeEventListener('drop', onDrop, true);
    };
  }, []);

  // The started jobs' progress, from the same events the activity list gets.
  useEffect(() => window.kenv.on('jobs:changed', (job) => {
    setJobs((list) => list && list.some((j) => j.id === job.id)
      ? list.map((j) => (j.id === job.id && job.revision > j.revision ? job : j))
      : list);
  }), []);

  const encrypt = async () => {
    if (!recipient || files.length === 0) return;
    setError(null);
    setBusy(true);
    try {
      const settings = await call('settings:get', {});
      let outDir: string | null = null;
      if (settings.outputLocation === 'ask') {
        outDir = await call('dialog:chooseFolder', {});
        if (outDir === null) return;
      }
      setJobs(await call('recipient:encrypt', { recipient: recipient.path, paths: files, outDir }));
    } catch (e) {
      setError(errorInfo(e));
    } finally {
      setBusy(false);
    }
  };

  const where = recipient ? accountAndRegion(recipient.keyArn) : null;

  return (
    <Modal title="Encrypt for a recipient" onClose={onClose} wide>
      <div className="recipient">
        {!recipient && (
          <>
            <p>
              Make files for the holder of an AWS KMS RSA key, with the <strong>recipient file</strong> they sent you
              (<code>.recipient</code>). No AWS sign-in and no network are needed.
            </p>
            <div className="recipient-drop">
              <p>Drop the recipient file here, or</p>
              <button type="button" className="primary" data-default onClick={() => void chooseRecipient()}>Choose recipient file…</button>
            </div>
          </>
        )}
        {recipient && where && (
          <>
            <section className="details" aria-label="Recipient">
              <dl>
                <dt>For the KMS key</dt>
                <dd className="wrap"><code>{recipient.keyArn}</code></dd>
                <dt>Account</dt>
                <dd>{where.account} · {where.region}</dd>
                <dt>Algorithm</dt>
                <dd>{recipient.algorithm} · RSA {recipient.keyBits}</dd>
                <dt>From</dt>
                <dd className="wrap">{recipient.name}</dd>
              </dl>
            </section>
            <p className="recipient-warning" role="note">
              Anyone holding this public key can make such a file, so a file made with it proves nothing about who sent
              it. Only someone allowed to use this KMS key (kms:Decrypt) can open the files: not you. Check the key ARN
              with the key&apos;s holder before you send anything.
            </p>
            {!jobs && (
              <div className="recipient-drop">
                <p>{files.length === 0 ? 'Drop the files to encrypt here, or' : `${files.length} ${files.length === 1 ? 'item' : 'items'} chosen:`}</p>
                {files.length > 0 && (
                  <ul className="recipient-files" aria-label="Files to encrypt">
                    {files.map((f) => <li key={f} className="wrap">{f}</li>)}
                  </ul>
                )}
                <button type="button" className={files.length === 0 ? 'primary' : 'ghost'} data-default={files.length === 0 ? true : undefined} onClick={() => void chooseFiles()}>
                  {files.length === 0 ? 'Choose files…' : 'Add files…'}
                </button>
              </div>
            )}
            {jobs && (
              <ul className="recipient-files" aria-label="Encrypted for the recipient" aria-live="polite">
                {jobs.map((j) => (
                  <li key={j.id} className={j.state === 'failed' ? 'error-text' : undefined}>
                    <strong>{j.name}</strong>: {stateText(j)}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
        {error && <p className="error-text" role="alert">{error.message}</p>}
      </div>
      <div className="actions">
        {recipient && !jobs && <button type="button" className="ghost" onClick={() => { setRecipient(null); setFiles([]); setError(null); }}>Other recipient</button>}
        <button type="button" className="ghost" onClick={onClose}>{jobs ? 'Close' : 'Cancel'}</button>
        {recipient && !jobs && (
          <button type="button" className="primary" disabled={files.length === 0 || busy} onClick={() => void encrypt()}>
            Encrypt for this recipient
          </button>
        )}
      </div>
    </Modal>
  );
}
