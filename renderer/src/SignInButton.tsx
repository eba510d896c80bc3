import { useState } from 'react';
import type { ErrorInfo } from '../../shared/errors.js';
import type { Identity } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';

/** Starts the AWS SSO sign-in (the Node side opens the browser) and reports the new identity. */
export function SignInButton({ onSignedIn, onError, className = 'primary' }: { onSignedIn: (id: Identity) => void; onError: (e: ErrorInfo) => void; className?: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className={className}
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          onSignedIn(await call('identity:signIn', {}));
        } catch (error) {
          onError(errorInfo(error));
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? 'Waiting for the browser…' : 'Sign in with AWS SSO'}
    </button>
  );
}
