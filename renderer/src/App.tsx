import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { FileDetails, Identity, Job, KeySummary, PlannedFile, PrivateFile, Settings } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { DetailsDialog } from './DetailsDialog.js';
import { ErrorView, Fixes } from './ErrorView.js';
import { keyLabel, noIdentitySentence } from './explain.js';
import { IdentityPanel } from './IdentityPanel.js';
import { JobList } from './JobList.js';
import { KeyPicker, type KeyChoice } from './KeyPicker.js';
import { PrivateFiles } from './PrivateFiles.js';
import { RecipientEncrypt } from './RecipientEncrypt.js';
import { SettingsDialog } from './SettingsDialog.js';
import { SignInButton } from './SignInButton.js';
import { VaultPanel } from './VaultPanel.js';

/** A batch waiting for the person to confirm it: shown when it holds .kenv files, so they see what they are. */
interface PendingBatch {
  files: PlannedFile[];
  details: Record<string, FileDetails | ErrorInfo>;
}

export function App() {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [keys, setKeys] = useState<KeySummary[] | null>(null);
  // Every key listed in this session, by ARN: an error about a key must still name it by alias after a reload of the
  // list left it out (the list shows only keys KMS lets this identity use, and the error is often why it is gone).
  const [seenKeys, setSeenKeys] = useState<Map<string, KeySummary>>(new Map());
  useEffect(() => {
    if (keys && keys.some((k) => seenKeys.get(k.arn) !== k)) setSeenKeys((m) => new Map([...m, ...keys.map((k) => [k.arn, k] as const)]));
  }, [keys, seenKeys]);
  const namedKeys = [...(keys ?? []), ...[...seenKeys.values()].filter((k) => !keys?.some((c) => c.arn === k.arn))];
  const [keysError, setKeysError] = useState<ErrorInfo | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [choice, setChoice] = useState<KeyChoice>({ primary: null, extra: [] });
  const [jobs, setJobs] = useState<Job[]>([]);
  const [privateFiles, setPrivateFiles] = useState<PrivateFile[]>([]);
  const [pending, setPending] = useState<PendingBatch | null>(null);
  // `retry`: the paths of a batch refused before it started, offered again by the notice's Retry (main checks them
  // against its grants again, as for any other call).
  const [notice, setNoticeWith] = useState<{ error: ErrorInfo; retry?: string[] } | null>(null);
  const setNotice = useCallback((error: ErrorInfo | null) => setNoticeWith(error && { error }), []);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  const identityRef = useRef(identity);
  identityRef.current = identity;
  const choiceRef = useRef(choice);
  choiceRef.current = choice;
  const focusKeys = useCallback(() => {
    const target = document.querySelector<HTMLElement>('.keys-panel input[type="radio"]:checked') 
      ?? document.querySelector<HTMLElement>('.keys-panel input[type="radio"]') ?? document.querySelector<HTMLElement>('.keys-panel input[type="search"]');
    target?.focus();
  }, []);

  const loadKeys = useCallback(async () => {
    setKeys(null);
    setKeysError(null);
    try {
      setKeys(await call('keys:list', {}));
    } catch (error) {
      setKeys([]);
      setKeysError(errorInfo(error));
    }
  }, []);

  const upsertJob = useCallback((job: Job) => {
    setJobs((list) => {
      const i = list.findIndex((j) => j.id === job.id);
      if (i === -1) return [...list, job];
      // Events and call results travel separately; keep whichever snapshot is newer.
      if (list[i]!.revision >= job.revision) return list;
      const next = list.slice();
      next[i] = job;
      return next;
    });
  }, []);

  const startBatch = useCallback(async (files: PlannedFile[], outDirOverride?: string | null) => {
    setNotice(null);
    try {
      let outDir = outDirOverride ?? null;
      if (outDir === null && settings?.outputLocation === 'ask') {
        outDir = await call('dialog:chooseFolder', {});
        if (outDir === null) return;
      }
      const keyIds = [choice.primary, ...choice.extra].filter((k): k is string => k !== null);
      const started = await call('jobs:start', { files: files.map((f) => ({ path: f.path, direction: f.direction })), keyIds, outDir });
      started.forEach(upsertJob);
    } catch (error) {
      setNotice(errorInfo(error));
    }
  }, [choice, settings, upsertJob]);

  /** Everything that arrives (drop, picker, double-click) goes through here. */
  const receivePaths = useCallback(async (paths: string[]) => {
    if (paths.length === 0) return;
    setNotice(null);
    let files: PlannedFile[];
    try {
      files = await call('files:plan', { paths });
    } catch (error) {
      setNotice(errorInfo(error));
      return;
    }
    if (files.length === 0) {
      setNotice({ code: 'INVALID_ARGUMENT', message: 'That folder holds no files. Drop files or a folder that contains some.' });
      return;
    }
    // Explain before anything starts: an expired session or a missing key would only fail each file after the fact.
    if (identityRef.current?.status === 'expired') {
      setNoticeWith({ error: { code: 'SSO_EXPIRED', message: 'Your AWS sign-in has expired; nothing was started. Sign in again, then retry.' }, retry: paths });
      return;
    }
    const plainCount = files.filter((f) => f.direction === 'encrypt').length;
    if (plainCount > 0 && choiceRef.current.primary === null) {
      setNotice({ code: 'INVALID_KEY', message: `Choose a key to encrypt with first: ${plainCount === 1 ? `${files.find((f) => f.direction === 'encrypt')!.name} needs` : `${plainCount} files need`} one. Nothing was started.` });
      return;
    }
    const sealed = files.filter((f) => f.direction === 'decrypt');
    if (sealed.length === 0) {
      await startBatch(files);
      return;
    }
    const details: PendingBatch['details'] = {};
    await Promise.all(sealed.slice(0, 20).map(async (f) => {
      try {
        details[f.path] = await call('files:inspect', { path: f.path });
      } catch (error) {
        details[f.path] = errorInfo(error);
      }
    }));
    setPending({ files, details });
  }, [setNotice, startBatch]);

  useEffect(() => {
    void (async () => {
      try {
        const [id, s, list, opened] = await Promise.all([call('identity:get', {}), call('settings:get', {}), call('jobs:list', {}), call('private:list', {})]);
        setIdentity(id);
        setSettings(s);
        setJobs(list);
        setPrivateFiles(opened);
        const remembered = s.lastKeyId ?? s.defaultKeyIds[0] ?? null;
        setChoice({ primary: remembered, extra: s.defaultKeyIds.filter((k) => k !== remembered) });
      } catch (error) {
        setNotice(errorInfo(error));
      }
      await loadKeys();
    })();
    const offJobs = window.kenv.on('jobs:changed', upsertJob);
    const offIdentity = window.kenv.on('identity:changed', (id) => {
      setIdentity(id);
      void loadKeys();
    });
    const offPrivate = window.kenv.on('private:changed', (file) => {
      setPrivateFiles((list) => file.closed ? list.filter((f) => f.id !== file.id) : list.some((f) => f.id === file.id) ? list.map((f) => (f.id === file.id ? file : f)) : [...list, file]);
    });
    return () => {
      offJobs();
      offIdentity();
      offPrivate();
    };
  }, [loadKeys, upsertJob]);

  // Double-clicked files: the ones that launched the app, then any that arrive while it runs.
  const receiveRef = useRef(receivePaths);
  receiveRef.current = receivePaths;
  useEffect(() => {
    const off = window.kenv.on('files:opened', (paths) => void receiveRef.current(paths));
    void call('app:takeOpenedFiles', {}).then((paths) => receiveRef.current(paths), (error) => setNotice(errorInfo(error)));
    return off;
  }, []);

  const onDrop = (event: React.DragEvent) => {
    event.preventDefault();
    dragDepth.current = 0;
    setDragging(false);
    // The Files go to the preload, which asks the main process to grant their paths; only granted paths work.
    const files = [...event.dataTransfer.files];
    void (async () => {
      const granted = await window.kenv.dropFiles(files);
      if (!granted.ok) {
        setNotice(granted.error);
        return;
      }
      if (granted.value.length === 0) {
        setNotice({ code: 'INVALID_ARGUMENT', message: 'Kenv can only work on files from your disk. Drop files or folders from the file manager.' });
        return;
      }
      await receivePaths(granted.value);
    })();
  };

  const chooseFiles = async () => {
    try {
      await receivePaths(await call('dialog:chooseFiles', {}));
    } catch (error) {
      setNotice(errorInfo(error));
    }
  };

  const onIdentity = (id: Identity) => {
    setIdentity(id);
    void loadKeys();
  };

  return (
    <Fixes.Provider value={{ keys: namedKeys, identity, onIdentity, onError: setNotice, focusKeys }}>
    <div
      className={`app${dragging ? ' dragging' : ''}`}
      onDragEnter={(e) => { e.preventDefault(); dragDepth.current++; setDragging(true); }}
      onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; }}
      onDragLeave={() => { dragDepth.current = Math.max(0, dragDepth.current - 1); if (dragDepth.current === 0) setDragging(false); }}
      onDrop={onDrop}
    >
      <header className="topbar">
        <h1 className="brand">
          <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22"><path fill="currentColor" d="M12 2 4 5v6c0 5 3.4 9.4 8 11 4.6-1.6 8-6 8-11V5l-8-3Zm0 2.2 6 2.2V11c0 3.9-2.5 7.4-6 8.8-3.5-1.4-6-4.9-6-8.8V6.4l6-2.2Zm0 3.3a2.5 2.5 0 0 0-1 4.8V16h2v-3.7a2.5 2.5 0 0 0-1-4.8Z" /></svg>
          <span>Kenv</span>
        </h1>
        <IdentityPanel identity={identity} onChange={onIdentity} onError={setNotice} />
        <button type="button" className="ghost" onClick={() => setSettingsOpen(true)} disabled={!settings}>Settings</button>
      </header>

      {identity?.status === 'expired' && (
        <div className="banner warning" role="alert">
          <span>Your AWS SSO session for profile <strong>{identity.profile}</strong> has expired. Sign in again to encrypt or decrypt.</span>
          <SignInButton onSignedIn={onIdentity} onError={setNotice} />
        </div>
      )}
      {identity?.status === 'no-credentials' && (
        <div className="banner warning" role="alert">
          <span>{noIdentitySentence(identity)}</span>
          {identity.sso && <SignInButton onSignedIn={onIdentity} onError={setNotice} />}
        </div>
      )}
      {notice && (
        <div className="banner error">
          <ErrorView error={notice.error} keyId={choice.primary ?? undefined} onRetry={notice.retry && (() => void receivePaths(notice.retry!))} />
          <button type="button" className="ghost small" onClick={() => setNotice(null)}>Dismiss</button>
        </div>
      )}

      <main className="layout">
        <section className="panel keys-panel" aria-labelledby="keys-title">
          <KeyPicker keys={keys} error={keysError} identity={identity} choice={choice} onChoice={setChoice} onReload={loadKeys} />
        </section>
        <section className="work" aria-label="Files">
          <div className="dropzone" aria-describedby="drop-hint">
            <svg aria-hidden="true" viewBox="0 0 24 24" width="36" height="36"><path fill="currentColor" d="M11 15V6.8L8.4 9.4 7 8l5-5 5 5-1.4 1.4L13 6.8V15h-2Zm-6 5a2 2 0 0 1-2-2v-4h2v4h14v-4h2v4a2 2 0 0 1-2 2H5Z" /></svg>
            <p id="drop-hint" className="drop-title">Drop files or folders anywhere in this window</p>
            <p className="muted">Files are encrypted to <code>.kenv</code>; <code>.kenv</code> files are decrypted. One drop can hold both.</p>
            <p className={`drop-key${choice.primary === null ? ' missing' : ''}`} aria-live="polite">
              {choice.primary === null
                ? <>No key chosen: files dropped now would not be encrypted. </>
                : <>Encrypt with <strong>{[choice.primary, ...choice.extra].map((k) => keyLabel(keys ?? [], k)).join(' + ')}</strong> · </>}
              <button type="button" className="link" onClick={focusKeys}>{choice.primary === null ? 'Choose a key' : 'change'}</button>
            </p>
            <button type="button" className="primary" onClick={() => void chooseFiles()}>Choose files…</button>
            <RecipientEncrypt />
          </div>
          <PrivateFiles files={privateFiles} onError={setNotice} />
          <JobList jobs={jobs} onError={setNotice} onCleared={setJobs} />
          <VaultPanel
            onError={setNotice}
            keyIds={[choice.primary, ...choice.extra].filter((k): k is string => k !== null)}
            keyText={choice.primary === null ? null : [choice.primary, ...choice.extra].map((k) => keyLabel(keys ?? [], k)).join(' + ')}
          />
        </section>
      </main>

      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          <p>Release to encrypt or decrypt</p>
        </div>
      )}

      {pending && (
        <DetailsDialog
          files={pending.files}
          details={pending.details}
          keys={keys ?? []}
          keyChosen={choice.primary !== null}
          identity={identity}
          outputFolder={settings?.outputLocation === 'vault-folder' && settings.vaultFolder ? settings.vaultFolder : settings?.outputLocation === 'ask' ? null : 'next-to-file'}
          onCancel={() => setPending(null)}
          onOpen={async (path) => {
            setPending(null);
            try {
              const file = await call('private:open', { path });
              setPrivateFiles((list) => (list.some((f) => f.id === file.id) ? list : [...list, file]));
            } catch (error) {
              setNotice(errorInfo(error));
            }
          }}
          onStart={(outDir) => {
            const files = pending.files.filter((f) => { const d = pending.details[f.path]; return !(d && 'code' in d); });
            setPending(null);
            if (files.length > 0) void startBatch(files, outDir);
          }}
        />
      )}
      {settingsOpen && settings && (
        <SettingsDialog
          settings={settings}
          keys={keys ?? []}
          onClose={() => setSettingsOpen(false)}
          onSaved={(s) => { setSettings(s); setSettingsOpen(false); }}
        />
      )}
    </div>
    </Fixes.Provider>
  );
}
