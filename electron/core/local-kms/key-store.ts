import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { KenvError } from '../errors.js';
import { KmsError } from './kms-error.js';

/** The AWS account every local key belongs to (the documentation example account). */
export const LOCAL_KMS_ACCOUNT = '111122223333';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export type KeySpec = 'SYMMETRIC_DEFAULT' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096';
export type KeyUsage = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
export const RSA_KEY_BITS: Readonly<Record<string, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/**
 * One KMS key as the server holds it, kept in the clear in the state file. `material` is the 256-bit AES key, or
 * for an RSA key the PKCS #8 DER private key. Replicas of a multi-Region key share the key id and the material.
 */
export interface KeyRecord {
  region: string;
  keyId: string;
  material: Buffer;
  /** Absent in state files written before RSA keys: SYMMETRIC_DEFAULT. */
  keySpec?: KeySpec;
  keyUsage?: KeyUsage;
  /** For a multi-Region key: whether this Region holds the primary or a replica (absent: primary). */
  multiRegionKeyType?: 'PRIMARY' | 'REPLICA';
  description: string;
  createdAt: number;
  state: KeyState;
  deletionDate?: number;
  pendingWindowInDays?: number;
  rotationEnabled: boolean;
  rotationPeriodInDays?: number;
  multiRegion: boolean;
}

export interface AliasRecord {
  region: string;
  name: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

interface StateFile {
  version: 1;
  keys: (Omit<KeyRecord, 'material'> & { material: string })[];
  aliases: AliasRecord[];
}

const STATE_FILE = 'local-kms.json';

/** The ARN of a key in `region`. */
export function keyArn(region: string, keyId: string): string {
  return `arn:aws:kms:${region}:${LOCAL_KMS_ACCOUNT}:key/${keyId}`;
}

/** The ARN of an alias (`alias/x`) in `region`. */
export function aliasArn(region: string, name: string): string {
  return `arn:aws:kms:${region}:${LOCAL_KMS_ACCOUNT}:${name}`;
}

/**
 * The keys and aliases of every Region, persisted as one JSON file in the state folder.
 *
 * Every change is written at once to a temporary file that is fsynced and renamed over the old one, so a crash
 * leaves either the old state or the new one. Writes are synchronous on purpose: requests are handled one at a
 * time and no two writes can interleave.
 */
export class KeyStore {
  private readonly keys: KeyRecord[] = [];
  private readonly aliases: AliasRecord[] = [];
  private readonly path: string;

  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, STATE_FILE);
    mkdirSync(stateDir, { recursive: true });
    this.load();
  }

  allKeys(): readonly KeyRecord[] {
    return this.keys;
  }

  allAliases(): readonly AliasRecord[] {
    return this.aliases;
  }

  keysIn(region: string): KeyRecord[] {
    return this.keys.filter((k) => k.region === region);
  }

  aliasesIn(region: string): AliasRecord[] {
    return this.aliases.filter((a) => a.region === region);
  }

  aliasesOf(key: KeyRecord): AliasRecord[] {
    return this.aliases.filter((a) => a.region === key.region && a.keyId === key.keyId);
  }

  findKey(region: string, keyId: string): KeyRecord | undefined {
    return this.keys.find((k) => k.region === region && k.keyId === keyId);
  }

  findAlias(region: string, name: string): AliasRecord | undefined {
    return this.aliases.find((a) => a.region === region && a.name === name);
  }

  /**
   * Finds the key that `ref` names in `region`: a key id, a key ARN, an alias name (`alias/x`) or an alias ARN.
   *
   * Throws NotFoundException when nothing matches, including an ARN of another Region or account: like real KMS, a
   * key exists only in its own Region.
   */
  resolve(region: string, ref: string): KeyRecord {
    if (ref.startsWith('arn:')) {
      const m = /^arn:aws:kms:([^:]+):(\d{12}):((?:key|alias)\/.+)$/.exec(ref);
      if (!m) throw new KmsError('NotFoundException', `Invalid arn ${ref}`);
      const [, arnRegion, account, resource] = m as unknown as [string, string, string, string];
      if (resource.startsWith('alias/')) {
        const alias = arnRegion === region && account === LOCAL_KMS_ACCOUNT ? this.findAlias(region, resource) : undefined;
        if (!alias) throw new KmsError('NotFoundException', `Alias ${ref} is not found.`);
        return this.aliasTarget(alias);
      }
      const key = arnRegion === region && account === LOCAL_KMS_ACCOUNT ? this.findKey(region, resource.slice(4)) : undefined;
      if (!key) throw new KmsError('NotFoundException', `Key '${ref}' does not exist`);
      return key;
    }
    if (ref.startsWith('alias/')) {
      const alias = this.findAlias(region, ref);
      if (!alias) throw new KmsError('NotFoundException', `Alias ${aliasArn(region, ref)} is not found.`);
      return this.aliasTarget(alias);
    }
    if (!isKeyId(ref)) throw new KmsError('NotFoundException', `Invalid keyId '${ref}'`);
    const key = this.findKey(region, ref);
    if (!key) throw new KmsError('NotFoundException', `Key '${keyArn(region, ref)}' does not exist`);
    return key;
  }

  createKey(region: string, opts: { description: string; multiRegion: boolean; keySpec?: KeySpec; keyUsage?: KeyUsage }): KeyRecord {
    const keySpec = opts.keySpec ?? 'SYMMETRIC_DEFAULT';
    const bits = RSA_KEY_BITS[keySpec];
    const key: KeyRecord = {
      region,
      keyId: opts.multiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID(),
      material: bits
        ? generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 }).privateKey.export({ format: 'der', type: 'pkcs8' })
        : randomBytes(32),
      ...(keySpec !== 'SYMMETRIC_DEFAULT' ? { keySpec, keyUsage: opts.keyUsage ?? 'ENCRYPT_DECRYPT' } : {}),
      description: opts.description,
      createdAt: Date.now(),
      state: 'Enabled',
      rotationEnabled: false,
      multiRegion: opts.multiRegion,
    };
    this.keys.push(key);
    this.save();
    return key;
  }

  /** Copies a multi-Region key into another Region: same key id and material, its own state and description. */
  replicate(primary: KeyRecord, region: string, description: string): KeyRecord {
    const replica: KeyRecord = {
      ...primary,
      region,
      material: Buffer.from(primary.material),
      description,
      createdAt: Date.now(),
      state: 'Enabled',
      rotationEnabled: false,
      multiRegionKeyType: 'REPLICA',
    };
    delete replica.deletionDate;
    delete replica.pendingWindowInDays;
    delete replica.rotationPeriodInDays;
    this.keys.push(replica);
    this.save();
    return replica;
  }

  /** Every Region's copy of a multi-Region key (primary and replicas), or just `key` for a single-Region key. */
  copiesOf(key: KeyRecord): KeyRecord[] {
    return key.multiRegion ? this.keys.filter((k) => k.keyId === key.keyId) : [key];
  }

  createAlias(region: string, name: string, key: KeyRecord): AliasRecord {
    if (this.findAlias(region, name)) {
      throw new KmsError('AlreadyExistsException', `An alias with the name ${aliasArn(region, name)} already exists`);
    }
    const now = Date.now();
    const alias: AliasRecord = { region, name, keyId: key.keyId, createdAt: now, updatedAt: now };
    this.aliases.push(alias);
    this.save();
    return alias;
  }

  deleteAlias(alias: AliasRecord): void {
    this.aliases.splice(this.aliases.indexOf(alias), 1);
    this.save();
  }

  /** Persists changes made to a record returned by this store. */
  save(): void {
    const state: StateFile = {
      version: 1,
      keys: this.keys.map((k) => ({ ...k, material: k.material.toString('base64') })),
      aliases: this.aliases,
    };
    const temp = join(this.stateDir, `.${STATE_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(state, null, 2) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (e) {
      rmSync(temp, { force: true });
      throw e;
    }
  }

  private aliasTarget(alias: AliasRecord): KeyRecord {
    const key = this.findKey(alias.region, alias.keyId);
    if (!key) throw new KmsError('NotFoundException', `Alias ${aliasArn(alias.region, alias.name)} is not found.`);
    return key;
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let state: StateFile;
    try {
      state = JSON.parse(text) as StateFile;
      if (state.version !== 1 || !Array.isArray(state.keys) || !Array.isArray(state.aliases)) throw new Error('unknown layout');
    } catch (e) {
      throw new KenvError(
        'INPUT_UNREADABLE',
        `The local KMS state file ${this.path} is not valid (${(e as Error).message}). Move it away to start with no keys.`,
        { cause: e },
      );
    }
    for (const k of state.keys) this.keys.push({ ...k, material: Buffer.from(k.material, 'base64') });
    this.aliases.push(...state.aliases);
  }
}

/** Is `s` shaped like a key id: a UUID, or `mrk-` and 32 hex digits for a multi-Region key? */
export function isKeyId(s: string): boolean {
  return /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/.test(s);
}
