import type { ErrorCode, ErrorInfo } from '../../shared/errors.js';
import type { Direction, Identity, KeySummary } from '../../shared/ipc.js';

/** What a person can do about an error, offered as buttons beside the sentence. */
export type Fix = 'retry' | 'copy-details' | 'switch-profile' | 'sign-in' | 'choose-key';

export interface Explained {
  /** One sentence in plain words; keys by alias, never a CLI flag. */
  message: string;
  fixes: Fix[];
  /** The key the error is about, when known: its ARN is shown on demand and goes into the details. */
  key: { label: string; arn: string } | null;
}

/** The file is damaged or was changed: retrying cannot help. */
const DAMAGED: ErrorCode[] = ['NOT_KENV', 'UNSUPPORTED_VERSION', 'UNSUPPORTED_SUITE', 'NO_KEY_COMMITMENT', 'TRUNCATED_HEADER', 'MALFORMED_HEADER',
  'HEADER_TAMPERED', 'COMMITMENT_MISMATCH', 'CONTEXT_MISMATCH', 'FRAME_TAMPERED', 'FRAME_OUT_OF_ORDER', 'TRUNCATED_BODY', 'TRAILING_BYTES',
  'BAD_SIGNATURE', 'TRUNCATED_FOOTER'];
/** Passing conditions: the same request may well work a moment later. */
const TRANSIENT: ErrorCode[] = ['KMS_THROTTLED', 'NETWORK_UNREACHABLE', 'KMS_ERROR', 'INTERNAL', 'OUTPUT_FAILED', 'INPUT_UNREADABLE', 'CANCELLED'];

/** The key a job or file names, by alias where the identity's key list knows it. */
export function findKey(keys: KeySummary[], id: string | undefined): KeySummary | undefined {
  if (!id) return undefined;
  const alias = id.startsWith('alias/') ? id : `alias/${id}`;
  return keys.find((k) => k.keyId === id || k.arn === id || k.aliases.includes(alias) || k.aliases.some((a) => id.endsWith(`:${a}`)));
}

export function keyLabel(keys: KeySummary[], id: string): string {
  const known = findKey(keys, id);
  if (known?.aliases[0]) return known.aliases[0].replace(/^alias\//, '');
  if (known) return known.description || `key ${known.keyId.slice(0, 8)}`;
  const alias = /alias\/(.+)$/.exec(id);
  return alias ? alias[1]! : `key ${id.split('/').pop()!.slice(0, 8)}`;
}

/** The sentence the core wrote, without CLI advice ("(--profile)", "run aws sso login") a window cannot follow. */
function withoutCliAdvice(message: string): string {
  return message
    .replace(/\s*\([^)]*--[a-z][^)]*\)/g, '')
    .replace(/[^.]*\b(?:aws sso login|--[a-z-]+)\b[^.]*\.?/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An error as the window shows it: what happened in one sentence, and the fixes that can work. */
export function explain(error: ErrorInfo, ctx: {
  keys: KeySummary[]; identity: Identity | null; keyId?: string | undefined; name?: string | undefined; direction?: Direction | undefined;
  /** A Retry button is shown beside the sentence: it may point to it. */
  retryShown?: boolean | undefined;
}): Explained {
  const known = findKey(ctx.keys, ctx.keyId);
  const label = ctx.keyId ? keyLabel(ctx.keys, ctx.keyId) : null;
  const arn = known?.arn ?? (ctx.keyId?.startsWith('arn:') ? ctx.keyId : null);
  const key = label && arn ? { label, arn } : null;
  const who = ctx.identity?.role ? `your role ${ctx.identity.role}` : 'this identity';
  const sso = ctx.identity?.sso === true;
  const profiles = (ctx.identity?.profiles.length ?? 0) > 1;
  const switchOrSign: Fix[] = [...(profiles ? ['switch-profile' as const] : []), ...(sso ? ['sign-in' as const] : [])];
  const use = ctx.direction === 'decrypt' ? 'open files with' : 'encrypt with';
  const code = error.code;

  if (code === 'KMS_ACCESS_DENIED') {
    return { message: `KMS does not let ${who} ${use} ${label ?? 'this key'}.`, fixes: ['copy-details', ...switchOrSign], key };
  }
  if (code === 'SSO_EXPIRED') {
    // Said only where the button is: without one, "retry" would send the person looking for it.
    const then = ctx.retryShown ? 'then choose Retry' : 'then do it again';
    return { message: `Your AWS sign-in has expired. Sign in again, ${then}.`, fixes: ['sign-in', 'retry'], key };
  }
  if (code === 'NO_CREDENTIALS') return { message: 'Kenv has no AWS identity to act as.', fixes: switchOrSign, key };
  if (code === 'KMS_KEY_DISABLED') return { message: `The key ${label ?? ''} is disabled, so nothing can be ${ctx.direction === 'decrypt' ? 'opened' : 'encrypted'} with it.`.replace('key  is', 'key is'), fixes: ['copy-details', 'choose-key'], key };
  if (code === 'KMS_KEY_PENDING_DELETION') return { message: `The key ${label ?? ''} is scheduled for deletion.`.replace('key  is', 'key is'), fixes: ['copy-details', 'choose-key'], key };
  if (code === 'INVALID_KEY' && !label) return { message: error.message, fixes: ['choose-key'], key };
  if (code === 'KMS_KEY_NOT_FOUND' || code === 'INVALID_KEY') return { message: `The key ${label ?? ''} does not exist for this account and Region.`.replace('key  does', 'key does'), fixes: ['choose-key', ...switchOrSign], key };
  if (code === 'NO_KEY_OPENED' || code === 'KMS_INVALID_CIPHERTEXT' || code === 'KMS_INCORRECT_KEY') {
    return { message: `None of the keys ${ctx.name ?? 'this file'} was encrypted for is open to ${who}.`, fixes: ['copy-details', ...switchOrSign], key };
  }
  // From here on the error is not about a key: no ARN to show.
  if (DAMAGED.includes(code)) return { message: `${ctx.name ?? 'This file'} is damaged or was changed after it was encrypted, so it cannot be opened. Ask for a fresh copy.`, fixes: [], key: null };
  if (code === 'KMS_THROTTLED') {
    // The core names the service that throttled (KMS, or SSO, SSO OIDC or STS while getting credentials).
    const service = /^(SSO OIDC|SSO|STS|KMS) kept throttling/.exec(error.message)?.[1] ?? 'KMS';
    return { message: `${service === 'KMS' ? 'KMS' : `AWS sign-in (${service})`} is busy and asked Kenv to slow down.`, fixes: ['retry'], key: null };
  }
  if (code === 'NETWORK_UNREACHABLE') return { message: 'AWS could not be reached. Check the network connection.', fixes: ['retry'], key: null };
  if (code === 'INPUT_NOT_FOUND') return { message: `${ctx.name ?? 'The file'} is no longer there. Drop it again from where it is now.`, fixes: [], key: null };
  return { message: withoutCliAdvice(error.message) || error.message, fixes: TRANSIENT.includes(code) ? ['retry'] : [], key: null };
}

/** Text for the key's administrator: the exact action refused, the key, the principal, and a statement that allows it. */
export function adminDetails(error: ErrorInfo, ctx: { identity: Identity | null; keyArn: string | null; direction: Direction | undefined; name?: string | undefined }): string {
  const action = ctx.direction === 'decrypt' ? 'kms:Decrypt' : 'kms:GenerateDataKey';
  const principal = principalArn(ctx.identity);
  const statement = {
    Sid: 'AllowKenv',
    Effect: 'Allow',
    Principal: { AWS: principal ?? 'arn:aws:iam::ACCOUNT:role/ROLE' },
    Action: ctx.direction === 'decrypt' ? ['kms:Decrypt'] : ['kms:GenerateDataKey', 'kms:Encrypt'],
    Resource: '*',
  };
  return [
    `Kenv could not ${ctx.direction === 'decrypt' ? 'decrypt' : 'encrypt'}${ctx.name ? ` ${ctx.name}` : ''}.`,
    `Error: ${error.code}: ${error.message}`,
    `Action: ${action}`,
    `Key: ${ctx.keyArn ?? 'unknown'}`,
    `Principal: ${principal ?? 'unknown'}${ctx.identity?.arn && ctx.identity.arn !== principal ? ` (session ${ctx.identity.arn})` : ''}`,
    `Account: ${ctx.identity?.account ?? 'unknown'}  Region: ${ctx.identity?.region ?? 'unknown'}`,
    '',
    'A key policy statement that would allow it:',
    JSON.stringify(statement, null, 2),
  ].join('\n');
}

/** arn:aws:sts::111:assumed-role/Role/session → arn:aws:iam::111:role/Role: what a key policy names. */
function principalArn(identity: Identity | null): string | null {
  const arn = identity?.arn;
  if (!arn) return null;
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

/** Why there is no identity, as a window says it: no CLI command or flag, the profile named, the ways out. */
export function noIdentitySentence(identity: Identity): string {
  const profile = identity.profile ?? 'default';
  const ways = identity.sso
    ? 'Sign in, or choose another profile above.'
    : 'Choose another profile above, or give this one credentials (for example with the AWS CLI), then choose Reload.';
  return `Kenv found no AWS credentials for the profile ${profile}. ${ways} Encrypt for a recipient works without them.`;
}
