import type { ErrorInfo } from '../../shared/errors.js';
import type { Identity } from '../../shared/ipc.js';
import { call, errorInfo } from './api.js';
import { SignInButton } from './SignInButton.js';
import { formatAccount } from './format.js';

/** Who Kenv acts as: profile (switchable), account, role, Region. */
export function IdentityPanel({ identity, onChange, onError }: { identity: Identity | null; onChange: (id: Identity) => void; onError: (e: ErrorInfo) => void }) {
  if (!identity) return <div className="identity muted" aria-live="polite">Checking your AWS identity…</div>;
  const statusText = {
    'signed-in': 'Signed in',
    expired: 'Session expired',
    'no-credentials': 'No credentials',
    error: 'Identity unknown',
  }[identity.status];
  return (
    <section className="identity" aria-label="AWS identity">
      {identity.profiles.length > 1 ? (
        <label className="field inline">
          <span>Profile</span>
          <select id="profile-select"
            value={identity.profile ?? ''}
            onChange={async (e) => {
              try {
                onChange(await call('identity:useProfile', { profile: e.target.value }));
              } catch (error) {
                onError(errorInfo(error));
              }
            }}
          >
            {identity.profiles.map((p) => <option key={p.name} value={p.name}>{p.name}{p.sso ? ' (SSO)' : ''}</option>)}
          </select>
        </label>
      ) : (
        <span className="fact"><span className="label">Profile</span> {identity.profile ?? 'default'}</span>
      )}
      <span className="fact"><span className="label">Account</span> {identity.account ? formatAccount(identity.account) : '—'}</span>
      {identity.role && <span className="fact"><span className="label">Role</span> {identity.role}</span>}
      <span className="fact"><span className="label">Region</span> {identity.region ?? 'not set'}</span>
      <span className={`status ${identity.status}`}><span className="dot" aria-hidden="true" />{statusText}</span>
      {identity.sso && identity.status !== 'signed-in' && identity.status !== 'expired' && (
        <SignInButton onSignedIn={onChange} onError={onError} className="small" />
      )}
    </section>
  );
}
