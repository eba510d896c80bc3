import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyFile, runKeygenCommand } from '../../../electron/core/keygen/keygen.js';
import type { KmsClientFactory } from '../../../electron/core/kms/client.js';
import { kmsClient, localKmsEnv, useLocalKms } from '../../support/local-kms.js';

// `kenv keygen` (runKeygenCommand, generateKeyFile) when KMS GenerateRandom refuses, throttles or answers short, the
// profile does not exist, or the key file cannot be written: exit 1 with the code and a sentence, no key file left.
const local = useLocalKms();
let dir: string;
let seq = 0;

beforeAll(() => {
  dir = local.fixture.tempDir();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function folder(): string {
  const f = join(dir, `case-${++seq}`);
  mkdirSync(f);
  return f;
}

function capture(): { err: string[]; io: { out(l: string): void; err(l: string): void } } {
  const err: string[] = [];
  return { err, io: { out: (l) => void err.push(`stdout: ${l}`), err: (l) => void err.push(l) } };
}

/** The environment a user has: the local KMS reached as any KMS endpoint, HOME in `home`. */
function stubUserEnv(home: string): void {
  for (const [k, v] of Object.entries({ ...localKmsEnv(local.kms, home), AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') })) vi.stubEnv(k, v);
}

/** A KMS whose GenerateRandom answers `answer`. */
function answering(answer: () => { Plaintext?: Uint8Array }): KmsClientFactory {
  return (() => ({ send: async () => answer() })) as unknown as KmsClientFactory;
}

describe('kenv keygen --kms-random', () => {
  it('takes the bytes from GenerateRandom in the Region given, through the default credentials', async () => {
    const f = folder();
    stubUserEnv(f);
    // No Region but the one given: without it the call could not be made at all.
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    const before = local.kms.counts().GenerateRandom ?? 0;
    const c = capture();
    const file = join(f, 'team.key');
    expect(await runKeygenCommand({ file, kmsRandom: true, region: 'eu-west-1' }, c.io)).toBe(0);
    expect(c.err).toEqual([`wrote a 256-bit raw AES key to ${file} (mode 0600, bytes from KMS GenerateRandom). Back it up: files encrypted under it cannot be opened without it.`]);
    expect(local.kms.counts().GenerateRandom).toBe(before + 1);
    expect(readFileSync(file)).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a profile that does not exist: exit 1, the profile named, no key file', async () => {
    const f = folder();
    stubUserEnv(f);
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    writeFileSync(join(f, 'config'), '[profile other]\nregion = us-east-1\n');
    const c = capture();
    const file = join(f, 'team.key');
    expect(await runKeygenCommand({ file, kmsRandom: true, profile: 'nosuch' }, c.io)).toBe(1);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(new RegExp(`^kenv: ${file}: .*nosuch.* \\[[A-Z_]+\\]$`));
    expect(readdirSync(f)).toEqual(['config']);
  });

  it('a throttled GenerateRandom is KMS_THROTTLED, naming the Region; nothing is written', async () => {
    const f = folder();
    const once: KmsClientFactory = (region) => kmsClient(local.kms, region ?? 'us-east-1', { maxAttempts: 1 });
    local.kms.throttleNext(1);
    const e = await generateKeyFile(join(f, 'k'), { kmsRandom: true, clients: once, region: 'eu-west-1' }).then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
    expect(e?.code).toBe('KMS_THROTTLED');
    expect(e?.message).toContain('eu-west-1');
    expect(readdirSync(f)).toEqual([]);
  });

  it('a GenerateRandom answer of the wrong length, or none, is KMS_ERROR; what came back is zeroed and nothing written', async () => {
    const f = folder();
    const short = Buffer.alloc(16, 0xab);
    for (const [answer, said] of [[{ Plaintext: short }, '16 bytes'], [{}, '0 bytes']] as const) {
      const e = await generateKeyFile(join(f, 'k'), { kmsRandom: true, clients: answering(() => answer) }).then(() => undefined, (err: unknown) => err as { code?: string; message?: string });
      expect(e?.code).toBe('KMS_ERROR');
      expect(e?.message).toBe(`KMS GenerateRandom returned ${said} instead of 32; no key was written.`);
    }
    expect(short.equals(Buffer.alloc(16))).toBe(true);
    expect(readdirSync(f)).toEqual([]);
  });
});

describe('kenv keygen, where the key file cannot go', () => {
  it('a folder that is a file: exit 1 with OUTPUT_FAILED, nothing written', async () => {
    const f = folder();
    writeFileSync(join(f, 'plain'), 'x');
    const c = capture();
    const file = join(f, 'plain', 'team.key');
    expect(await runKeygenCommand({ file }, c.io)).toBe(1);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(new RegExp(`^kenv: ${file}: .*\\[OUTPUT_FAILED\\]$`));
    expect(readdirSync(f)).toEqual(['plain']);
  });

  it('an existing key file: refused without --force, replaced with it, and the local generator says so', async () => {
    const f = folder();
    const file = join(f, 'team.key');
    writeFileSync(file, 'old key');
    const c = capture();
    expect(await runKeygenCommand({ file }, c.io)).toBe(1);
    expect(c.err[0]).toMatch(/\[OUTPUT_EXISTS\]$/);
    expect(readFileSync(file, 'utf8')).toBe('old key');
    const d = capture();
    expect(await runKeygenCommand({ file, force: true }, d.io)).toBe(0);
    expect(d.err[0]).toContain("bytes from this machine's CSPRNG");
    expect(readFileSync(file)).toHaveLength(32);
    expect(readdirSync(f)).toEqual(['team.key']);
  });
});
