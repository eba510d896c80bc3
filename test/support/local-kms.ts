import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { afterAll, beforeAll } from 'vitest';
import { type LocalKms, type LocalKmsOptions, startLocalKms } from '../../electron/core/local-kms/server.js';

/** Credentials the local KMS accepts (it checks no signature; the Region in the scope is what matters). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIALOCALKMSTEST0001', secretAccessKey: 'local-kms-test-secret' };

/**
 * Starts local KMS servers on port 0 in temp state folders and stops them all in one `closeAll()` (for `afterAll`).
 */
export class LocalKmsFixture {
  private readonly servers: LocalKms[] = [];
  private readonly dirs: string[] = [];

  /** A fresh temp folder, removed by closeAll(). */
  tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'kenv-local-kms-'));
    this.dirs.push(dir);
    return dir;
  }

  async start(opts: Partial<LocalKmsOptions> = {}): Promise<LocalKms> {
    const kms = await startLocalKms({ stateDir: opts.stateDir ?? this.tempDir(), ...opts });
    this.servers.push(kms);
    return kms;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** A real KMS client pointed at `kms` through the client's endpoint option. */
export function kmsClient(kms: LocalKms, region = 'us-east-1', extra: Partial<KMSClientConfig> = {}): KMSClient {
  return new KMSClient({ region, endpoint: kms.url, credentials: LOCAL_CREDENTIALS, ...extra });
}

/**
 * The environment a `kenv` subprocess needs to reach `kms` as a user reaches any KMS endpoint.
 *
 * KMS and STS both point at the local KMS (it answers GetCallerIdentity, which decrypt asks for the account it runs
 * as), with its static credentials, Region us-east-1 and `home` as HOME so no config or cache of the user's is read.
 */
export function localKmsEnv(kms: LocalKms, home: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KMS: kms.url,
    AWS_ENDPOINT_URL_STS: kms.url,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    HOME: home,
  };
}

/** The local KMS of one test file and a client for it; read them inside a test or hook. */
export interface LocalKmsInUse {
  readonly fixture: LocalKmsFixture;
  readonly kms: LocalKms;
  readonly client: KMSClient;
}

/** Starts a local KMS (and a client for it) in beforeAll and stops it, with every other server `fixture` started, in afterAll. */
export function useLocalKms(opts: Partial<LocalKmsOptions> = {}): LocalKmsInUse {
  const fixture = new LocalKmsFixture();
  let kms: LocalKms | undefined;
  let client: KMSClient | undefined;
  beforeAll(async () => {
    kms = await fixture.start(opts);
    client = kmsClient(kms);
  });
  afterAll(async () => {
    client?.destroy();
    await fixture.closeAll();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the local KMS is read before beforeAll ran: read it inside a test or hook');
    return value;
  };
  return {
    fixture,
    get kms() { return started(kms); },
    get client() { return started(client); },
  };
}

let aliasSeq = 0;

/** A new key of its own for one test, with a fresh alias, in every form a request can name it. */
export async function newAliasedKey(client: KMSClient): Promise<{ keyId: string; arn: string; alias: string; aliasArn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'test key' }));
  const keyId = KeyMetadata!.KeyId!;
  const arn = KeyMetadata!.Arn!;
  const alias = `alias/test-${process.pid}-${++aliasSeq}`;
  await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  return { keyId, arn, alias, aliasArn: arn.replace(/:key\/.*$/, `:${alias}`) };
}
