import {
  type AliasListEntry, DecryptCommand, DescribeKeyCommand, GenerateDataKeyCommand, GetKeyRotationStatusCommand, type KeyMetadata,
  type KMSClient, ListAliasesCommand, ListKeysCommand,
} from '@aws-sdk/client-kms';
import { CONNECTION_FAULT_CODES } from '../aws/network-errors.js';
import { KenvError } from '../errors.js';
import type { KmsClientFactory } from './client.js';
import { kmsError } from './errors.js';
import { mapLimit } from './limit.js';

/** One KMS key as the key picker and `kenv keys` show it. */
export interface KeyEntry {
  keyId: string;
  arn: string;
  region: string;
  /** Alias names (alias/…), sorted. */
  aliases: string[];
  description: string;
  /** KMS key state: Enabled, Disabled, PendingDeletion, … */
  state: string;
  enabled: boolean;
  /** CUSTOMER, or AWS for AWS managed keys (listed only with `all`: their policies allow use only through a service). */
  keyManager: string;
  multiRegion: boolean;
  multiRegionRole?: string;
  /** A multi-Region key's primary Region and its replicas' Regions, as DescribeKey reports them. */
  primaryRegion?: string;
  replicaRegions?: string[];
  /** SYMMETRIC_DEFAULT, or RSA_2048/3072/4096 for the RSA keys listed with `rsa` ("for people without AWS"). */
  keySpec?: string;
  /** Automatic yearly rotation: true, false, or undefined when the caller may not read it. */
  rotationEnabled: boolean | undefined;
  createdAt?: string;
  deletionDate?: string;
  /** May the caller GenerateDataKey (encrypt files) under this key? undefined when KMS would not say. */
  canGenerate: boolean | undefined;
  /** May the caller Decrypt data keys of this key? undefined when it could not be checked. */
  canDecrypt: boolean | undefined;
  /** Why a check failed or was inconclusive: the sentences of the mapped errors. */
  notes: string[];
}

export interface ListKeysOptions {
  /** Also disabled, pending-deletion and AWS managed keys. */
  all?: boolean;
  /** The Region to list (default: the clients' default Region). */
  region?: string;
  /** Check GenerateDataKey/Decrypt permissions (default true). */
  checkAccess?: boolean;
  /** Concurrent KMS calls (default 4). */
  concurrency?: number;
  /** Page size for ListKeys/ListAliases (default 100, KMS's maximum is 1000). */
  pageSize?: number;
  /** Also RSA ENCRYPT_DECRYPT keys: recipients for people without AWS (no access check: they make no data keys). */
  rsa?: boolean;
}

/**
 * Lists the symmetric ENCRYPT_DECRYPT keys of a Region that the caller can see, with aliases, state, rotation and
 * whether the caller may encrypt and decrypt with each; one function for `kenv keys` and the desktop key picker.
 *
 * Paginates ListKeys and ListAliases through any number of keys. Without `all`, only enabled customer managed keys.
 * The access check per key: GenerateDataKey with DryRun (KMS checks permission and key state, no key material is
 * made); if that is allowed, one real GenerateDataKey of 1 byte gives a genuine ciphertext, and Decrypt with DryRun
 * on it checks kms:Decrypt. A Decrypt dry run needs a ciphertext of the key, so when GenerateDataKey is denied,
 * canDecrypt is undefined rather than guessed. Every failure is a KenvError from kmsError.
 */
export async function listKeys(clients: KmsClientFactory, opts: ListKeysOptions = {}): Promise<KeyEntry[]> {
  const client = clients(opts.region);
  const region = opts.region ?? (await clientRegion(client));
  const ctx = { ...(region ? { region } : {}) };
  const pageSize = opts.pageSize ?? 100;
  const concurrency = opts.concurrency ?? 4;

  const keyIds = await allPages('ListKeys', region, async (marker) => {
    const page = await call(() => client.send(new ListKeysCommand({ Limit: pageSize, ...(marker ? { Marker: marker } : {}) })), { ...ctx, operation: 'ListKeys' });
    return { items: (page.Keys ?? []).map((k) => k.KeyId), truncated: page.Truncated, marker: page.NextMarker };
  });

  const aliasesByKey = new Map<string, string[]>();
  const aliases = await allPages(
    'ListAliases',
    region,
    async (marker) => {
      const page = await call(() => client.send(new ListAliasesCommand({ Limit: pageSize, ...(marker ? { Marker: marker } : {}) })), { ...ctx, operation: 'ListAliases' });
      return { items: page.Aliases ?? [], truncated: page.Truncated, marker: page.NextMarker };
    },
    (a) => a.AliasName,
  );
  for (const a of aliases) addAlias(aliasesByKey, a);

  const entries = await mapLimit(keyIds, concurrency, async (keyId) => {
    let meta: KeyMetadata | undefined;
    try {
      meta = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    } catch (e) {
      // A key the caller may list but not describe is of no use to it; --all still shows it, with the reason.
      const error = kmsError(e, { ...ctx, operation: 'DescribeKey', keyId });
      if (error.code === 'KMS_THROTTLED' || CONNECTION_FAULT_CODES.has(error.code) || error.code === 'NO_CREDENTIALS' || error.code === 'SSO_EXPIRED') throw error;
      return opts.all ? undescribed(keyId, region, aliasesByKey.get(keyId) ?? [], error.message) : undefined;
    }
    if (!meta || !isListed(meta, !!opts.all, !!opts.rsa)) return undefined;
    const mrk = meta.MultiRegionConfiguration;
    const aliases = (aliasesByKey.get(meta.KeyId ?? keyId) ?? []).sort();
    const entry: KeyEntry = {
      keyId: meta.KeyId ?? keyId,
      arn: meta.Arn ?? '',
      region: regionOfArn(meta.Arn) ?? region ?? '',
      aliases,
      description: meta.Description ?? '',
      state: meta.KeyState ?? 'Unknown',
      enabled: meta.Enabled ?? false,
      keyManager: meta.KeyManager ?? 'CUSTOMER',
      multiRegion: meta.MultiRegion ?? false,
      rotationEnabled: undefined,
      canGenerate: undefined,
      canDecrypt: undefined,
      notes: [],
      ...(mrk?.MultiRegionKeyType ? { multiRegionRole: mrk.MultiRegionKeyType } : {}),
      ...(mrk?.PrimaryKey?.Region ? { primaryRegion: mrk.PrimaryKey.Region } : {}),
      ...(mrk ? { replicaRegions: (mrk.ReplicaKeys ?? []).map((r) => r.Region ?? '').filter(Boolean).sort() } : {}),
      keySpec: meta.KeySpec ?? meta.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT',
      ...(meta.CreationDate ? { createdAt: meta.CreationDate.toISOString() } : {}),
      ...(meta.DeletionDate ? { deletionDate: meta.DeletionDate.toISOString() } : {}),
    };
    const keyCtx = { ...ctx, keyArn: entry.arn, ...(aliases[0] ? { alias: aliases[0] } : {}) };
    if (entry.keySpec !== 'SYMMETRIC_DEFAULT') return entry;
    try {
      const rotation = await client.send(new GetKeyRotationStatusCommand({ KeyId: entry.keyId }));
      entry.rotationEnabled = rotation.KeyRotationEnabled ?? false;
    } catch (e) {
      entry.notes.push(kmsError(e, { ...keyCtx, operation: 'GetKeyRotationStatus' }).message);
    }
    if (opts.checkAccess !== false) await checkAccess(client, entry, keyCtx);
    return entry;
  });
  return entries.filter((e): e is KeyEntry => e !== undefined).sort(byName);
}

async function checkAccess(client: KMSClient, entry: KeyEntry, keyCtx: { region?: string; keyArn: string; alias?: string }): Promise<void> {
  const generate = await dryRun(() => client.send(new GenerateDataKeyCommand({ KeyId: entry.arn, NumberOfBytes: 1, DryRun: true })));
  if (generate !== true) {
    entry.canGenerate = generate === undefined ? undefined : false;
    if (generate !== undefined) entry.notes.push(kmsError(generate, { ...keyCtx, operation: 'GenerateDataKey' }).message);
    return;
  }
  entry.canGenerate = true;
  let blob: Uint8Array | undefined;
  try {
    const out = await client.send(new GenerateDataKeyCommand({ KeyId: entry.arn, NumberOfBytes: 1 }));
    out.Plaintext?.fill(0);
    blob = out.CiphertextBlob;
  } catch (e) {
    entry.notes.push(kmsError(e, { ...keyCtx, operation: 'GenerateDataKey' }).message);
  }
  if (!blob) return;
  const decrypt = await dryRun(() => client.send(new DecryptCommand({ KeyId: entry.arn, CiphertextBlob: blob, DryRun: true })));
  entry.canDecrypt = decrypt === true ? true : decrypt === undefined ? undefined : false;
  if (decrypt !== true && decrypt !== undefined) entry.notes.push(kmsError(decrypt, { ...keyCtx, operation: 'Decrypt' }).message);
}

/**
 * Runs a DryRun call: true when KMS says it would have succeeded, the error when permission or key state refuse it,
 * undefined when the answer says nothing about either (throttled, network, unknown).
 */
async function dryRun(send: () => Promise<unknown>): Promise<true | undefined | unknown> {
  try {
    await send();
    // A server that ignores DryRun and just answers: the call was allowed.
    return true;
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (name === 'DryRunOperationException') return true;
    if (DECISIVE.has(name)) return e;
    return undefined;
  }
}

const DECISIVE = new Set(['AccessDeniedException', 'DisabledException', 'KMSInvalidStateException', 'NotFoundException', 'InvalidKeyUsageException', 'KeyUnavailableException']);

function undescribed(keyId: string, region: string | undefined, aliases: string[], note: string): KeyEntry {
  return {
    keyId, arn: '', region: region ?? '', aliases: [...aliases].sort(), description: '', state: 'Unknown', enabled: false,
    keyManager: 'CUSTOMER', multiRegion: false, rotationEnabled: undefined, canGenerate: undefined, canDecrypt: undefined, notes: [note],
  };
}

function isListed(meta: KeyMetadata, all: boolean, rsa: boolean): boolean {
  if (meta.KeyUsage !== 'ENCRYPT_DECRYPT') return false;
  const spec = meta.KeySpec ?? meta.CustomerMasterKeySpec;
  if (spec !== 'SYMMETRIC_DEFAULT' && !(rsa && /^RSA_/.test(spec ?? ''))) return false;
  if (all) return true;
  return meta.KeyState === 'Enabled' && meta.KeyManager !== 'AWS';
}

function addAlias(map: Map<string, string[]>, alias: AliasListEntry): void {
  if (!alias.TargetKeyId || !alias.AliasName) return;
  const list = map.get(alias.TargetKeyId) ?? [];
  list.push(alias.AliasName);
  map.set(alias.TargetKeyId, list);
}

/** Keys with aliases first, by alias; then the rest by key id. */
function byName(a: KeyEntry, b: KeyEntry): number {
  const an = a.aliases[0];
  const bn = b.aliases[0];
  if (an && bn) return an.localeCompare(bn);
  if (an || bn) return an ? -1 : 1;
  return a.keyId.localeCompare(b.keyId);
}

/**
 * Every item of a KMS listing (ListKeys, ListAliases), following NextMarker while a page says it is truncated.
 *
 * An item listed before is dropped. A truncated page without a marker, with a marker it gave before, or listing
 * nothing new (new markers over the same items, for ever) is KMS_ERROR: never a short list taken for the whole,
 * never an endless loop.
 */
async function allPages<T>(
  operation: 'ListKeys' | 'ListAliases',
  region: string | undefined,
  page: (marker: string | undefined) => Promise<{ items: T[]; truncated: boolean | undefined; marker: string | undefined }>,
  id: (item: T) => string | undefined = (item) => (typeof item === 'string' ? item : undefined),
): Promise<Exclude<T, undefined>[]> {
  const items: Exclude<T, undefined>[] = [];
  const seen = new Set<string>();
  const markers = new Set<string>();
  let marker: string | undefined;
  for (;;) {
    const out = await page(marker);
    let fresh = 0;
    for (const item of out.items) {
      const key = id(item);
      if (key === undefined || seen.has(key)) continue;
      seen.add(key);
      items.push(item as Exclude<T, undefined>);
      fresh++;
    }
    if (!out.truncated) return items;
    if (!out.marker || markers.has(out.marker) || fresh === 0) {
      throw new KenvError(
        'KMS_ERROR',
        `KMS said its ${operation} list${region ? ` in ${region}` : ''} goes on but gave no way to go on (${
          !out.marker ? 'no marker' : markers.has(out.marker) ? 'a marker it gave before' : 'a page with nothing new'
        }). Try again; if it persists, the endpoint does not list as KMS does.`,
      );
    }
    markers.add(out.marker);
    marker = out.marker;
  }
}

async function call<T>(send: () => Promise<T>, ctx: Parameters<typeof kmsError>[1]): Promise<T> {
  try {
    return await send();
  } catch (e) {
    throw kmsError(e, ctx);
  }
}

async function clientRegion(client: KMSClient): Promise<string | undefined> {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}

function regionOfArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}
