import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdentityDirectory } from '../support/aws-identities.js';
import { childCoverageEnv, KENV_BIN, problems, runKenv } from '../support/cli.js';
import { useLocalSignIn } from '../support/local-sign-in.js';
import { timeLimit } from '../support/timeouts.js';

// `kenv login`, `kenv whoami` and `kenv logout` as a person runs them: the built `kenv` in a child process against
// the local IAM Identity Center and STS, the person's browser played by the test from what kenv prints.
const local = useLocalSignIn(new IdentityDirectory(), { userName: 'alice@example.com' });

// No browser on PATH: kenv cannot open one, so it prints the address for the person to open (what the test does).
const emptyPath = mkdtempSync(join(tmpdir(), 'kenv-no-browser-'));
afterAll(() => rmSync(emptyPath, { recursive: true, force: true }));

function env(): Record<string, string> {
  return {
    PATH: emptyPath,
    HOME: local.aws.home,
    AWS_CONFIG_FILE: local.aws.configFile,
    AWS_SHARED_CREDENTIALS_FILE: local.aws.credentialsFile,
    AWS_ENDPOINT_URL_SSO: local.sso.url,
    AWS_ENDPOINT_URL_SSO_OIDC: local.sso.url,
    AWS_ENDPOINT_URL_STS: local.sts.url,
  };
}

/**
 * Runs `kenv args…` and calls `onLine` with each stderr line as it comes (where the person reads what to do), then
 * resolves with the exit code and all of stderr.
 */
function kenvInteractive(args: string[], onLine: (line: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KENV_BIN, ...args], {
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_DISABLED: 'true', ...env(), ...childCoverageEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      pending += c.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The person's browser: opens the authorize address and follows IAM Identity Center's redirect back to kenv. */
async function approveInBrowser(authorizeUrl: string): Promise<void> {
  const r = await fetch(authorizeUrl, { redirect: 'manual' });
  await (await fetch(r.headers.get('location')!)).text();
}

// Each test starts several kenv processes, and reaching the OS keychain may take seconds on a loaded machine.
describe('kenv login, whoami and logout in a terminal', { timeout: timeLimit(120_000) }, () => {
  it('kenv login prints the address when no browser opens, signs in once it is approved there, and whoami then names the SSO role', async () => {
    const login = await kenvInteractive(['login', '--profile', 'work'], (line) => {
      if (/^ {2}http:\/\/127\.0\.0\.1:\d+\/authorize\?/.test(line)) void approveInBrowser(line.trim());
    });
    expect(login.code).toBe(0);
    expect(login.stdout).toBe('');
    const lines = login.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('Opening your browser to sign in. If it does not open, visit this address:');
    expect(lines.at(-1)).toMatch(/^Signed in: profile work \(https:\/\/corp\.awsapps\.com\/start\) until \d{4}-.*Z\.$/);
    expect(local.sso.calls).toContain('CreateToken:authorization_code');

    const who = await runKenv(['whoami', '--profile', 'work', '--json'], { env: env() });
    expect(who.code).toBe(0);
    expect(JSON.parse(who.stdout.toString())).toMatchObject({
      account: '111122223333', kind: 'sso-session',
      arn: 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0123456789abcdef/alice@example.com',
    });
  });

  it('kenv login --device-code prints the code and the link; approving it there signs in', async () => {
    const login = await kenvInteractive(['login', '--profile', 'work', '--device-code'], (line) => {
      const link = /^ {2}or open (\S+)$/.exec(line)?.[1];
      if (link) void fetch(link);
    });
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(new RegExp(`^To sign in, open ${local.sso.url}/device and enter the code: [0-9A-F]{4}-[0-9A-F]{4}\\n`));
    expect(login.stderr).toMatch(/\nSigned in: profile work /);
    expect(local.sso.calls.filter((c) => c === 'CreateToken:device_code').length).toBeGreaterThan(0);
  });

  it('kenv logout signs out at the portal and removes the token: whoami then says to sign in again, and a second logout says there was nothing', async () => {
    const login = await kenvInteractive(['login', '--profile', 'work', '--device-code'], (line) => {
      const link = /^ {2}or open (\S+)$/.exec(line)?.[1];
      if (link) void fetch(link);
    });
    expect(login.code).toBe(0);

    const logout = await runKenv(['logout', '--profile', 'work'], { env: env() });
    expect([logout.code, logout.stderr]).toEqual([0, 'Signed out: profile work.\n']);
    expect(local.sso.calls).toContain('Logout');

    const who = await runKenv(['whoami', '--profile', 'work'], { env: env() });
    expect(who.code).toBe(1);
    expect(problems(who.stderr)).toEqual([expect.stringMatching(/sign in again: kenv login --profile work.*\[SSO_EXPIRED\]$/)]);

    const again = await runKenv(['logout', '--profile', 'work'], { env: env() });
    expect([again.code, again.stderr]).toEqual([0, 'Profile work was not signed in.\n']);
  });

  it('kenv login with a profile that does not use IAM Identity Center exits 1 with INVALID_ARGUMENT and asks nothing of the service', async () => {
    const login = await runKenv(['login', '--profile', 'keys'], { env: env() });
    expect(login.code).toBe(1);
    expect(problems(login.stderr)).toEqual([expect.stringMatching(/The profile keys does not sign in with IAM Identity Center.*\[INVALID_ARGUMENT\]$/)]);
    expect(local.sso.calls).toEqual([]);
  });
});
