import { toErrorInfo } from '../errors.js';
import { listProfiles } from './profiles.js';
import { whoami } from './whoami.js';

/** Where a command writes: stdout lines and stderr lines. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/** `kenv profiles [--json]`: the profiles Kenv can use and what kind each is. Exit code 0, or 1 on failure. */
export async function runProfilesCommand(opts: { json?: boolean }, io: CommandIo): Promise<number> {
  try {
    const profiles = await listProfiles();
    if (opts.json) {
      io.out(JSON.stringify(profiles, null, 2));
      return 0;
    }
    if (profiles.length === 0) {
      io.err('No AWS profiles found. Set one up with "aws configure" or "aws configure sso", or set AWS_ACCESS_KEY_ID.');
      return 1;
    }
    const rows = profiles.map((p) => [
      `${p.isDefault ? '*' : ' '} ${p.name}`,
      p.kind,
      p.region ?? '-',
      p.kind === 'assume-role' ? `${p.roleArn ?? ''} via ${p.sourceProfile ?? ''}`
        : p.ssoStartUrl ? `${p.ssoStartUrl}${p.accountId ? ` ${p.accountId}/${p.roleName ?? ''}` : ''}` : '',
    ]);
    table([['  PROFILE', 'KIND', 'REGION', 'DETAILS'], ...rows], io);
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}

/** `kenv whoami [--profile P] [--region R] [--json]`: account, ARN, profile, Region and session expiry. */
export async function runWhoamiCommand(opts: { profile?: string; region?: string; json?: boolean }, io: CommandIo): Promise<number> {
  try {
    const id = await whoami(opts);
    if (opts.json) {
      io.out(JSON.stringify(id, null, 2));
      return 0;
    }
    io.out(`Account:  ${id.account}`);
    io.out(`ARN:      ${id.arn}`);
    io.out(`Profile:  ${id.profile} (${id.kind})`);
    io.out(`Region:   ${id.region ?? '(none: set region in the profile, AWS_REGION or --region)'}`);
    if (id.credentialsExpireAt) io.out(`Credentials expire: ${id.credentialsExpireAt.toISOString()}`);
    if (id.ssoSessionExpiresAt) io.out(`SSO session expires: ${id.ssoSessionExpiresAt.toISOString()}`);
    if (!id.credentialsExpireAt && !id.ssoSessionExpiresAt) io.out('Session:  long-term credentials (no expiry)');
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}

/** Prints an error as "kenv: sentence [CODE]" (the form every kenv command uses) and returns exit code 1. */
export function fail(e: unknown, io: CommandIo): number {
  const info = toErrorInfo(e);
  io.err(`kenv: ${info.message} [${info.code}]`);
  return 1;
}

function table(rows: string[][], io: CommandIo): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
