import { fail, type CommandIo } from '../aws/command.js';
import { OsKeychain, type SecretStore } from '../keychain/keychain.js';
import { login, logout } from './login.js';

/**
 * `kenv login [--profile P] [--device-code]`: signs in with IAM Identity Center and caches the token for Kenv and
 * the AWS CLI alike.
 *
 * `openBrowser` and `registrations` default to the system browser and the OS keychain.
 */
export async function runLoginCommand(
  opts: { profile?: string; deviceCode?: boolean; openBrowser?: (url: string) => Promise<void>; registrations?: SecretStore },
  io: CommandIo,
): Promise<number> {
  try {
    const result = await login({
      ...(opts.profile ? { profile: opts.profile } : {}),
      deviceCode: !!opts.deviceCode,
      ...(opts.openBrowser ? { openBrowser: opts.openBrowser } : {}),
      registrations: opts.registrations ?? new OsKeychain(),
      onAuthorizeUrl: (url) => {
        io.err('Opening your browser to sign in. If it does not open, visit this address:');
        io.err(`  ${url}`);
      },
      onDeviceCode: (d) => {
        io.err(`To sign in, open ${d.verificationUri} and enter the code: ${d.userCode}`);
        if (d.verificationUriComplete) io.err(`  or open ${d.verificationUriComplete}`);
        io.err(`The code expires at ${d.expiresAt.toISOString()}. Waiting for approval…`);
      },
    });
    io.err(`Signed in: profile ${result.profile} (${result.startUrl}) until ${result.expiresAt.toISOString()}.`);
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}

/** `kenv logout [--profile P]`: ends the SSO session and removes the cached token. */
export async function runLogoutCommand(opts: { profile?: string }, io: CommandIo): Promise<number> {
  try {
    const { profile, removed } = await logout(opts.profile);
    io.err(removed ? `Signed out: profile ${profile}.` : `Profile ${profile} was not signed in.`);
    return 0;
  } catch (e) {
    return fail(e, io);
  }
}
