import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OsKeychain, probeKeychain } from '../../../electron/core/keychain/keychain.js';
import { login } from '../../../electron/core/sso/login.js';
import { IdentityDirectory } from '../../support/aws-identities.js';
import { type TempAws, useTempAws } from '../../support/aws-env.js';
import { type LocalSso, startLocalSso } from '../../support/local-sso.js';

// These tests need a real Secret Service and fail (never skip) without one: run the suite under
// test/support/with-secret-service.sh, which starts gnome-keyring on a private D-Bus.
const keychain = new OsKeychain(`dev.kenv.test-${process.pid}`);
let available = false;

beforeAll(async () => {
  const problem = await probeKeychain(keychain);
  available = !problem;
  if (problem) {
    throw new Error(
      `No usable Secret Service for the OS keychain tests: ${problem.message}\n` +
        'Run the tests under test/support/with-secret-service.sh (e.g. "bash test/support/with-secret-service.sh npx vitest run").',
    );
  }
});

afterAll(async () => {
  if (!available) return;
  for (const name of await keychain.list()) await keychain.delete(name);
});

describe('OsKeychain (Secret Service)', () => {
  it('stores, reads back, overwrites and deletes a secret', async () => {
    await keychain.set('round-trip', 'first');
    expect(await keychain.get('round-trip')).toBe('first');
    await keychain.set('round-trip', 'second ✓ ünïcode');
    expect(await keychain.get('round-trip')).toBe('second ✓ ünïcode');
    expect(await keychain.delete('round-trip')).toBe(true);
    expect(await keychain.get('round-trip')).toBeUndefined();
  });

  it('a missing item reads as undefined and deletes as false', async () => {
    expect(await keychain.get('never-set')).toBeUndefined();
    expect(await keychain.delete('never-set')).toBe(false);
  });

  it('keeps items apart by service and lists its own', async () => {
    const other = new OsKeychain(`dev.kenv.other-${process.pid}`);
    await keychain.set('shared-name', 'mine');
    await other.set('shared-name', 'theirs');
    expect(await keychain.get('shared-name')).toBe('mine');
    expect(await keychain.list()).toContain('shared-name');
    expect(await other.list()).toEqual(['shared-name']);
    await other.delete('shared-name');
  });

  it('lives in the Secret Service, not in this process: another process reads it', async () => {
    await keychain.set('cross-process', 'seen-elsewhere');
    const script = `const { Entry } = require('@napi-rs/keyring');
      process.stdout.write(new Entry(process.argv[1], 'cross-process', { linux: { store: 'secret-service' } }).getPassword() ?? 'null');`;
    expect(execFileSync(process.execPath, ['-e', script, keychain.service], { encoding: 'utf8' })).toBe('seen-elsewhere');
  });

  it('holds a 4 KiB binary-safe base64 value', async () => {
    const value = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256)).toString('base64');
    await keychain.set('large', value);
    expect(await keychain.get('large')).toBe(value);
  });
});

describe('SSO client registrations in the keychain', () => {
  const directory = new IdentityDirectory();
  let sso: LocalSso;
  let aws: TempAws;
  beforeAll(async () => {
    sso = await startLocalSso(directory);
  });
  afterAll(() => sso.close());
  beforeEach(() => {
    aws = useTempAws();
    aws.setEnv('AWS_ENDPOINT_URL_SSO_OIDC', sso.url);
    aws.writeConfig('[profile work]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n');
  });
  afterEach(() => aws.restore());

  it('a second login reuses the registration stored in the OS keychain', async () => {
    const browser = async (url: string) => {
      const r = await fetch(url, { redirect: 'manual' });
      await (await fetch(r.headers.get('location')!)).text();
    };
    await login({ profile: 'work', openBrowser: browser, registrations: keychain });
    await login({ profile: 'work', openBrowser: browser, registrations: keychain });
    expect(sso.calls.filter((c) => c === 'RegisterClient')).toHaveLength(1);
    const stored = JSON.parse((await keychain.get('sso-client/authorization-code/eu-west-1/https://corp.awsapps.com/start/sso:account:access'))!) as Record<string, unknown>;
    expect(stored).toMatchObject({ clientId: expect.stringMatching(/^client-/), clientSecret: expect.any(String) });
  });
});
