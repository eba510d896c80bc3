import { createContext, useContext, useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { Direction, Identity, KeySummary } from '../../shared/ipc.js';
import { adminDetails, explain } from './explain.js';
import { SignInButton } from './SignInButton.js';

/** What an error's fixes need from the app: who we are, the key list, and where to send a new identity. */
export interface FixContext {
  keys: KeySummary[];
  identity: Identity | null;
  onIdentity: (id: Identity) => void;
  onError: (e: ErrorInfo) => void;
  /** Moves focus to the key list (the "choose key" fix and the drop target's "change"). */
  focusKeys: () => void;
}

export const Fixes = createContext<FixContext>({ keys: [], identity: null, onIdentity: () => undefined, onError: () => undefined, focusKeys: () => undefined });

/** An error in plain words with its fixes as buttons; the technical detail only on demand. */
export function ErrorView({ error, keyId, name, direction, onRetry, children }: {
  error: ErrorInfo;
  keyId?: string | undefined;
  name?: string | undefined;
  direction?: Direction | undefined;
  /** Shown only when retrying can help. */
  onRetry?: (() => void) | undefined;
  /** Extra buttons (e.g. the choices for an existing output). */
  children?: React.ReactNode;
}) {
  const fx = useContext(Fixes);
  const said = explain(error, { keys: fx.keys, identity: fx.identity, keyId, name, direction, retryShown: onRetry !== undefined });
  const [copied, setCopied] = useState(false);
  const [showArn, setShowArn] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(adminDetails(error, { identity: fx.identity, keyArn: said.key?.arn ?? keyId ?? null, direction, name }));
      setCopied(true);
    } catch {
      fx.onError({ code: 'INTERNAL', message: 'The details could not be copied to the clipboard.' });
    }
  };
  return (
    <div className="error-view">
      <p className="error-text" role="alert">
        {said.message}
        {said.key && (
          <> <button type="button" className="link" aria-expanded={showArn} onClick={() => setShowArn((v) => !v)}>{showArn ? 'Hide key ARN' : 'Key ARN'}</button></>
        )}
      </p>
      {showArn && said.key && <code className="wrap arn">{said.key.arn}</code>}
      <div className="fixes">
        {children}
        {said.fixes.includes('retry') && onRetry && <button type="button" className="ghost small" onClick={onRetry} aria-label={name ? `Retry ${name}` : 'Retry'}>Retry</button>}
        {said.fixes.includes('sign-in') && <SignInButton onSignedIn={fx.onIdentity} onError={fx.onError} className="ghost small" />}
        {said.fixes.includes('switch-profile') && (
          <button type="button" className="ghost small" onClick={() => document.getElementById('profile-select')?.focus()}>Switch profile</button>
        )}
        {said.fixes.includes('choose-key') && <button type="button" className="ghost small" onClick={fx.focusKeys}>Choose another key</button>}
        {said.fixes.includes('copy-details') && (
          <button type="button" className="ghost small" onClick={() => void copy()} title="Copies what the key's administrator needs: the action, the key ARN, your principal and a policy statement">
            {copied ? 'Copied' : 'Copy details for the key admin'}
          </button>
        )}
      </div>
    </div>
  );
}
