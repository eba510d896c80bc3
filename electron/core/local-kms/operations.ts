import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { blobKeyId, type EncryptionContext, openBlob, sealBlob } from './ciphertext.js';
import {
  type AliasRecord, aliasArn, type KeyRecord, type KeySpec, type KeyStore, type KeyUsage, keyArn, LOCAL_KMS_ACCOUNT, RSA_KEY_BITS,
} from './key-store.js';
import { KmsError } from './kms-error.js';

/** What one request's operation may use: the store, the Region the request was signed for, and the policy check. */
export interface OperationContext {
  store: KeyStore;
  region: string;
  /** Throws AccessDeniedException when a deny rule covers `action` (e.g. `ReEncryptFrom`) on `key`. */
  authorize(action: string, key?: KeyRecord): void;
}

type Input = Record<string, unknown>;
type Operation = (ctx: OperationContext, input: Input) => Record<string, unknown>;

const MAX_PLAINTEXT = 4096;
const MAX_CIPHERTEXT = 6144;

/** The KMS operations this server answers, by their `X-Amz-Target` name (`TrentService.<name>`). */
export const operations: Readonly<Record<string, Operation>> = {
  CreateKey(ctx, input) {
    const description = optionalString(input, 'Description', 8192) ?? '';
    const specs = ['SYMMETRIC_DEFAULT', 'RSA_2048', 'RSA_3072', 'RSA_4096'];
    expectOneOf(input, 'KeyUsage', ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], 'Local KMS makes only ENCRYPT_DECRYPT and SIGN_VERIFY keys.');
    expectOneOf(input, 'KeySpec', specs, 'Local KMS makes only SYMMETRIC_DEFAULT and RSA_2048/3072/4096 keys.');
    expectOneOf(input, 'CustomerMasterKeySpec', specs, 'Local KMS makes only SYMMETRIC_DEFAULT and RSA_2048/3072/4096 keys.');
    expectOneOf(input, 'Origin', ['AWS_KMS'], 'Local KMS makes only keys with origin AWS_KMS.');
    const keySpec = (optionalString(input, 'KeySpec', 64) ?? optionalString(input, 'CustomerMasterKeySpec', 64) ?? 'SYMMETRIC_DEFAULT') as KeySpec;
    const keyUsage = (optionalString(input, 'KeyUsage', 64) ?? 'ENCRYPT_DECRYPT') as KeyUsage;
    if (keySpec === 'SYMMETRIC_DEFAULT' && keyUsage !== 'ENCRYPT_DECRYPT') {
      throw validation(`KeyUsage ${keyUsage} is not compatible with KeySpec SYMMETRIC_DEFAULT.`);
    }
    const multiRegion = optionalBoolean(input, 'MultiRegion') ?? false;
    ctx.authorize('CreateKey');
    const key = ctx.store.createKey(ctx.region, { description, multiRegion, keySpec, keyUsage });
    return { KeyMetadata: keyMetadata(ctx.store, key) };
  },

  DescribeKey(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('DescribeKey', key);
    return { KeyMetadata: keyMetadata(ctx.store, key) };
  },

  GetPublicKey(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('GetPublicKey', key);
    if (!isRsa(key)) {
      throw new KmsError('UnsupportedOperationException', `${keyArn(key.region, key.keyId)} key usage is ENCRYPT_DECRYPT with spec SYMMETRIC_DEFAULT, which is not valid for GetPublicKey.`);
    }
    usable(key);
    const spec = key.keySpec!;
    return {
      KeyId: keyArn(key.region, key.keyId),
      PublicKey: createPublicKey(privateKeyOf(key)).export({ format: 'der', type: 'spki' }).toString('base64'),
      CustomerMasterKeySpec: spec,
      KeySpec: spec,
      KeyUsage: key.keyUsage,
      ...(key.keyUsage === 'ENCRYPT_DECRYPT' ? { EncryptionAlgorithms: RSA_ALGORITHMS } : { SigningAlgorithms: RSA_SIGNING_ALGORITHMS }),
    };
  },

  ReplicateKey(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    const replicaRegion = optionalString(input, 'ReplicaRegion', 32);
    if (replicaRegion === undefined) throw validation(`Value null at 'replicaRegion' failed to satisfy constraint: Member must not be null`);
    const description = optionalString(input, 'Description', 8192) ?? key.description;
    ctx.authorize('ReplicateKey', key);
    if (!key.multiRegion) {
      throw new KmsError('UnsupportedOperationException', `${keyArn(key.region, key.keyId)} is not a multi-Region key, so it cannot be replicated.`);
    }
    if (key.multiRegionKeyType === 'REPLICA') {
      throw new KmsError('UnsupportedOperationException', `${keyArn(key.region, key.keyId)} is a replica key; replicate the primary key.`);
    }
    notPendingDeletion(key);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(replicaRegion)) throw validation(`${replicaRegion} is not a valid Region.`);
    if (replicaRegion === key.region || ctx.store.findKey(replicaRegion, key.keyId)) {
      throw new KmsError('AlreadyExistsException', `${keyArn(replicaRegion, key.keyId)} already exists.`);
    }
    const replica = ctx.store.replicate(key, replicaRegion, description);
    return { ReplicaKeyMetadata: keyMetadata(ctx.store, replica), ReplicaPolicy: DEFAULT_POLICY, ReplicaTags: [] };
  },

  ListKeys(ctx, input) {
    ctx.authorize('ListKeys');
    const page = paginate(ctx.store.keysIn(ctx.region), input);
    return { Keys: page.items.map((k) => ({ KeyId: k.keyId, KeyArn: keyArn(k.region, k.keyId) })), ...page.more };
  },

  EnableKey(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('EnableKey', key);
    notPendingDeletion(key);
    key.state = 'Enabled';
    ctx.store.save();
    return {};
  },

  DisableKey(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('DisableKey', key);
    notPendingDeletion(key);
    key.state = 'Disabled';
    ctx.store.save();
    return {};
  },

  ScheduleKeyDeletion(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    const days = optionalInteger(input, 'PendingWindowInDays', 7, 30) ?? 30;
    ctx.authorize('ScheduleKeyDeletion', key);
    notPendingDeletion(key);
    key.state = 'PendingDeletion';
    key.pendingWindowInDays = days;
    key.deletionDate = Date.now() + days * 86_400_000;
    ctx.store.save();
    return {
      KeyId: keyArn(key.region, key.keyId),
      DeletionDate: epochSeconds(key.deletionDate),
      KeyState: key.state,
      PendingWindowInDays: days,
    };
  },

  CancelKeyDeletion(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('CancelKeyDeletion', key);
    if (key.state !== 'PendingDeletion') {
      throw new KmsError('KMSInvalidStateException', `${keyArn(key.region, key.keyId)} is not pending deletion.`);
    }
    // As in real KMS, a key whose deletion is cancelled comes back disabled.
    key.state = 'Disabled';
    delete key.deletionDate;
    delete key.pendingWindowInDays;
    ctx.store.save();
    return { KeyId: keyArn(key.region, key.keyId) };
  },

  GetKeyRotationStatus(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('GetKeyRotationStatus', key);
    // Real KMS reports rotation off while a key is pending deletion and restores it if the deletion is cancelled.
    const enabled = key.rotationEnabled && key.state !== 'PendingDeletion';
    return {
      KeyId: keyArn(key.region, key.keyId),
      KeyRotationEnabled: enabled,
      ...(enabled ? { RotationPeriodInDays: key.rotationPeriodInDays ?? 365 } : {}),
    };
  },

  EnableKeyRotation(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    const period = optionalInteger(input, 'RotationPeriodInDays', 90, 2560) ?? 365;
    ctx.authorize('EnableKeyRotation', key);
    usable(key);
    if (isRsa(key)) throw new KmsError('UnsupportedOperationException', `${keyArn(key.region, key.keyId)} is an asymmetric key; automatic rotation is for symmetric keys.`);
    key.rotationEnabled = true;
    key.rotationPeriodInDays = period;
    ctx.store.save();
    return {};
  },

  DisableKeyRotation(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    ctx.authorize('DisableKeyRotation', key);
    usable(key);
    key.rotationEnabled = false;
    delete key.rotationPeriodInDays;
    ctx.store.save();
    return {};
  },

  CreateAlias(ctx, input) {
    const name = aliasName(input);
    const key = targetKey(ctx, input);
    ctx.authorize('CreateAlias', key);
    notPendingDeletion(key);
    ctx.store.createAlias(ctx.region, name, key);
    return {};
  },

  UpdateAlias(ctx, input) {
    const name = aliasName(input);
    const alias = existingAlias(ctx, name);
    const key = targetKey(ctx, input);
    ctx.authorize('UpdateAlias', key);
    notPendingDeletion(key);
    alias.keyId = key.keyId;
    alias.updatedAt = Date.now();
    ctx.store.save();
    return {};
  },

  DeleteAlias(ctx, input) {
    const alias = existingAlias(ctx, aliasName(input));
    ctx.authorize('DeleteAlias', ctx.store.findKey(alias.region, alias.keyId));
    ctx.store.deleteAlias(alias);
    return {};
  },

  ListAliases(ctx, input) {
    const keyRef = optionalString(input, 'KeyId', 2048);
    let aliases: AliasRecord[] = ctx.store.aliasesIn(ctx.region);
    if (keyRef !== undefined) {
      const key = ctx.store.resolve(ctx.region, keyRef);
      aliases = aliases.filter((a) => a.keyId === key.keyId);
    }
    ctx.authorize('ListAliases');
    const page = paginate(aliases, input);
    return {
      Aliases: page.items.map((a) => ({
        AliasName: a.name,
        AliasArn: aliasArn(a.region, a.name),
        TargetKeyId: a.keyId,
        CreationDate: epochSeconds(a.createdAt),
        LastUpdatedDate: epochSeconds(a.updatedAt),
      })),
      ...page.more,
    };
  },

  Encrypt(ctx, input) {
    const key = resolveKey(ctx, input, 'KeyId');
    const plaintext = requiredBlob(input, 'Plaintext', MAX_PLAINTEXT);
    const context = encryptionContext(input, 'EncryptionContext');
    const algorithm = encryptionAlgorithm(input, 'EncryptionAlgorithm');
    ctx.authorize('Encrypt', key);
    usable(key);
    encryptDecryptKey(key, algorithm, context);
    if (isRsa(key)) {
      const max = Math.ceil(RSA_KEY_BITS[key.keySpec!]! / 8) - 2 * (algorithm === 'RSAES_OAEP_SHA_1' ? 20 : 32) - 2;
      if (plaintext.length > max) {
        throw validation(`Plaintext of ${plaintext.length} bytes is longer than ${key.keySpec} with ${algorithm} can encrypt (${max} bytes).`);
      }
      dryRun(input);
      const blob = publicEncrypt({ key: createPublicKey(privateKeyOf(key)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, plaintext);
      return { CiphertextBlob: blob.toString('base64'), KeyId: keyArn(key.region, key.keyId), EncryptionAlgorithm: algorithm };
    }
    dryRun(input);
    return {
      CiphertextBlob: sealBlob(key.keyId, key.material, plaintext, context).toString('base64'),
      KeyId: keyArn(key.region, key.keyId),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },

  GenerateDataKey(ctx, input) {
    const { key, dataKey, blob } = generateDataKey(ctx, input, 'GenerateDataKey');
    return { CiphertextBlob: blob.toString('base64'), Plaintext: dataKey.toString('base64'), KeyId: keyArn(key.region, key.keyId) };
  },

  GenerateDataKeyWithoutPlaintext(ctx, input) {
    const { key, blob } = generateDataKey(ctx, input, 'GenerateDataKeyWithoutPlaintext');
    return { CiphertextBlob: blob.toString('base64'), KeyId: keyArn(key.region, key.keyId) };
  },

  Decrypt(ctx, input) {
    const blob = requiredBlob(input, 'CiphertextBlob', MAX_CIPHERTEXT);
    const context = encryptionContext(input, 'EncryptionContext');
    const algorithm = encryptionAlgorithm(input, 'EncryptionAlgorithm');
    const keyRef = optionalString(input, 'KeyId', 2048);
    const named = keyRef === undefined ? undefined : ctx.store.resolve(ctx.region, keyRef);
    if (named && isRsa(named)) {
      // An RSA ciphertext names no key: KMS needs KeyId and the algorithm it was encrypted with.
      ctx.authorize('Decrypt', named);
      usable(named);
      encryptDecryptKey(named, algorithm, context);
      dryRun(input);
      let plaintext: Buffer;
      try {
        if (blob.length !== RSA_KEY_BITS[named.keySpec!]! / 8) throw new Error('wrong length');
        plaintext = privateDecrypt({ key: privateKeyOf(named), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: oaepHash(algorithm) }, blob);
      } catch {
        throw new KmsError('InvalidCiphertextException', 'The ciphertext could not be decrypted with this key and encryption algorithm.');
      }
      return { KeyId: keyArn(named.region, named.keyId), Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: algorithm };
    }
    const key = blobKey(ctx, blob, keyRef);
    ctx.authorize('Decrypt', key);
    usable(key);
    encryptDecryptKey(key, algorithm, context);
    dryRun(input);
    return {
      KeyId: keyArn(key.region, key.keyId),
      Plaintext: openBlob(blob, key.material, context).toString('base64'),
      EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },

  ReEncrypt(ctx, input) {
    const blob = requiredBlob(input, 'CiphertextBlob', MAX_CIPHERTEXT);
    const sourceContext = encryptionContext(input, 'SourceEncryptionContext');
    const destinationContext = encryptionContext(input, 'DestinationEncryptionContext');
    symmetricDefault(input, 'SourceEncryptionAlgorithm');
    symmetricDefault(input, 'DestinationEncryptionAlgorithm');
    const destination = resolveKey(ctx, input, 'DestinationKeyId');
    const source = blobKey(ctx, blob, optionalString(input, 'SourceKeyId', 2048));
    ctx.authorize('ReEncryptFrom', source);
    ctx.authorize('ReEncryptTo', destination);
    usable(source);
    usable(destination);
    encryptDecryptKey(source, 'SYMMETRIC_DEFAULT', sourceContext);
    encryptDecryptKey(destination, 'SYMMETRIC_DEFAULT', destinationContext);
    dryRun(input);
    const plaintext = openBlob(blob, source.material, sourceContext);
    return {
      CiphertextBlob: sealBlob(destination.keyId, destination.material, plaintext, destinationContext).toString('base64'),
      SourceKeyId: keyArn(source.region, source.keyId),
      KeyId: keyArn(destination.region, destination.keyId),
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    };
  },

  GenerateRandom(ctx, input) {
    const n = optionalInteger(input, 'NumberOfBytes', 1, 1024);
    if (n === undefined) throw validation(`Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null`);
    ctx.authorize('GenerateRandom');
    return { Plaintext: randomBytes(n).toString('base64') };
  },
};

function generateDataKey(ctx: OperationContext, input: Input, action: string): { key: KeyRecord; dataKey: Buffer; blob: Buffer } {
  const key = resolveKey(ctx, input, 'KeyId');
  const context = encryptionContext(input, 'EncryptionContext');
  const bytes = optionalInteger(input, 'NumberOfBytes', 1, 1024);
  const spec = optionalString(input, 'KeySpec', 16);
  if ((bytes === undefined) === (spec === undefined)) {
    throw validation('Please specify either number of bytes or key spec.');
  }
  const length = bytes ?? { AES_256: 32, AES_128: 16 }[spec ?? ''];
  if (length === undefined) {
    throw validation(`Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`);
  }
  ctx.authorize(action, key);
  usable(key);
  encryptDecryptKey(key, 'SYMMETRIC_DEFAULT', context);
  dryRun(input);
  const dataKey = randomBytes(length);
  return { key, dataKey, blob: sealBlob(key.keyId, key.material, dataKey, context) };
}

/** The key a ciphertext blob names; with `keyRef`, that key must be the blob's (else IncorrectKeyException). */
function blobKey(ctx: OperationContext, blob: Buffer, keyRef: string | undefined): KeyRecord {
  const keyId = blobKeyId(blob);
  if (keyRef !== undefined) {
    const key = ctx.store.resolve(ctx.region, keyRef);
    if (key.keyId !== keyId) {
      throw new KmsError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      );
    }
    return key;
  }
  const key = ctx.store.findKey(ctx.region, keyId);
  // Real KMS answers a blob whose key it cannot find in this Region (another Region's key, say) this way too.
  if (!key) throw new KmsError('InvalidCiphertextException', 'The ciphertext refers to a KMS key that does not exist in this Region.');
  return key;
}

function keyMetadata(store: KeyStore, key: KeyRecord): Record<string, unknown> {
  const arn = keyArn(key.region, key.keyId);
  const spec = key.keySpec ?? 'SYMMETRIC_DEFAULT';
  const copies = store.copiesOf(key);
  const primary = copies.find((k) => k.multiRegionKeyType !== 'REPLICA') ?? key;
  return {
    AWSAccountId: LOCAL_KMS_ACCOUNT,
    KeyId: key.keyId,
    Arn: arn,
    CreationDate: epochSeconds(key.createdAt),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage ?? 'ENCRYPT_DECRYPT',
    KeyState: key.state,
    ...(key.deletionDate !== undefined ? { DeletionDate: epochSeconds(key.deletionDate) } : {}),
    ...(key.pendingWindowInDays !== undefined ? { PendingDeletionWindowInDays: key.pendingWindowInDays } : {}),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: spec,
    KeySpec: spec,
    ...(key.keyUsage === 'SIGN_VERIFY'
      ? { SigningAlgorithms: RSA_SIGNING_ALGORITHMS }
      : { EncryptionAlgorithms: spec === 'SYMMETRIC_DEFAULT' ? ['SYMMETRIC_DEFAULT'] : RSA_ALGORITHMS }),
    MultiRegion: key.multiRegion,
    ...(key.multiRegion
      ? {
          MultiRegionConfiguration: {
            MultiRegionKeyType: key.multiRegionKeyType ?? 'PRIMARY',
            PrimaryKey: { Arn: keyArn(primary.region, primary.keyId), Region: primary.region },
            ReplicaKeys: copies.filter((k) => k !== primary).map((k) => ({ Arn: keyArn(k.region, k.keyId), Region: k.region })),
          },
        }
      : {}),
  };
}

function resolveKey(ctx: OperationContext, input: Input, field: string): KeyRecord {
  const ref = optionalString(input, field, 2048);
  if (ref === undefined) throw validation(`Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`);
  return ctx.store.resolve(ctx.region, ref);
}

/** CreateAlias and UpdateAlias take a key id or key ARN only: an alias cannot point at an alias. */
function targetKey(ctx: OperationContext, input: Input): KeyRecord {
  const ref = optionalString(input, 'TargetKeyId', 2048);
  if (ref === undefined) throw validation(`Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null`);
  if (ref.startsWith('alias/') || /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(ref)) {
    throw validation('Aliases must refer to keys. Not aliases');
  }
  return ctx.store.resolve(ctx.region, ref);
}

function aliasName(input: Input): string {
  const name = optionalString(input, 'AliasName', 256);
  if (name === undefined) throw validation(`Value null at 'aliasName' failed to satisfy constraint: Member must not be null`);
  if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name)) {
    throw validation(`Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`);
  }
  if (name.startsWith('alias/aws/')) throw validation('Alias names that begin with alias/aws/ are reserved for AWS managed keys.');
  return name;
}

function existingAlias(ctx: OperationContext, name: string): AliasRecord {
  const alias = ctx.store.findAlias(ctx.region, name);
  if (!alias) throw new KmsError('NotFoundException', `Alias ${aliasArn(ctx.region, name)} is not found.`);
  return alias;
}

/** Throws as real KMS does when a key cannot encrypt or decrypt: DisabledException or KMSInvalidStateException. */
function usable(key: KeyRecord): void {
  notPendingDeletion(key);
  if (key.state === 'Disabled') throw new KmsError('DisabledException', `${keyArn(key.region, key.keyId)} is disabled.`);
}

function notPendingDeletion(key: KeyRecord): void {
  if (key.state === 'PendingDeletion') {
    throw new KmsError('KMSInvalidStateException', `${keyArn(key.region, key.keyId)} is pending deletion.`);
  }
}

function dryRun(input: Input): void {
  if (optionalBoolean(input, 'DryRun')) {
    throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
  }
}

function paginate<T>(all: T[], input: Input): { items: T[]; more: { Truncated: boolean; NextMarker?: string } } {
  const limit = optionalInteger(input, 'Limit', 1, 1000) ?? 100;
  const marker = optionalString(input, 'Marker', 1024);
  // The marker is the index of the next item: opaque to clients, as KMS's are.
  const start = marker === undefined ? 0 : /^\d{1,6}$/.test(marker) ? Number(marker) : -1;
  if (start < 0 || start > all.length) throw validation(`Invalid marker '${marker}'.`);
  const items = all.slice(start, start + limit);
  const next = start + items.length;
  return { items, more: next < all.length ? { Truncated: true, NextMarker: String(next) } : { Truncated: false } };
}

function encryptionContext(input: Input, field: string): EncryptionContext | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new KmsError('SerializationException', `${field} must be a map of strings to strings.`);
  }
  return value as EncryptionContext;
}

function requiredBlob(input: Input, field: string, max: number): Buffer {
  const value = input[field];
  if (value === undefined || value === null) {
    throw validation(`Value null at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`);
  }
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new KmsError('SerializationException', `${field} is not valid base64.`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < 1 || bytes.length > max) {
    throw validation(`Value at '${lowerFirst(field)}' failed to satisfy constraint: Member must have length between 1 and ${max}`);
  }
  return bytes;
}

function optionalString(input: Input, field: string, max: number): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new KmsError('SerializationException', `${field} must be a string.`);
  if (value.length < 1 || value.length > max) {
    throw validation(`Value '${value}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must have length between 1 and ${max}`);
  }
  return value;
}

function optionalInteger(input: Input, field: string, min: number, max: number): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new KmsError('SerializationException', `${field} must be an integer.`);
  if (value < min || value > max) {
    throw validation(`Value '${value}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`);
  }
  return value;
}

function optionalBoolean(input: Input, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new KmsError('SerializationException', `${field} must be a boolean.`);
  return value;
}

function expectOneOf(input: Input, field: string, allowed: string[], unsupported: string): void {
  const value = optionalString(input, field, 64);
  if (value !== undefined && !allowed.includes(value)) throw new KmsError('UnsupportedOperationException', unsupported);
}

function symmetricDefault(input: Input, field: string): void {
  expectOneOf(input, field, ['SYMMETRIC_DEFAULT'], `Local KMS supports only the SYMMETRIC_DEFAULT ${field}.`);
}

const RSA_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
const RSA_SIGNING_ALGORITHMS = ['RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512'];
const DEFAULT_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${LOCAL_KMS_ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
});

function isRsa(key: KeyRecord): boolean {
  return key.keySpec !== undefined && key.keySpec !== 'SYMMETRIC_DEFAULT';
}

function privateKeyOf(key: KeyRecord): ReturnType<typeof createPrivateKey> {
  return createPrivateKey({ key: key.material, format: 'der', type: 'pkcs8' });
}

function oaepHash(algorithm: string): string {
  return algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256';
}

/** The EncryptionAlgorithm of a request (default SYMMETRIC_DEFAULT), checked against KMS's enum. */
function encryptionAlgorithm(input: Input, field: string): string {
  const value = optionalString(input, field, 64) ?? 'SYMMETRIC_DEFAULT';
  const all = ['SYMMETRIC_DEFAULT', ...RSA_ALGORITHMS, 'SM2PKE'];
  if (!all.includes(value)) {
    throw validation(`Value '${value}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must satisfy enum value set: [${all.join(', ')}]`);
  }
  return value;
}

/**
 * Throws as real KMS does when a key cannot encrypt or decrypt with an algorithm: InvalidKeyUsageException for a
 * signing key or an algorithm of another key spec; an encryption context is for symmetric keys only.
 */
function encryptDecryptKey(key: KeyRecord, algorithm: string, context: EncryptionContext | undefined): void {
  const arn = keyArn(key.region, key.keyId);
  if ((key.keyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT') {
    throw new KmsError('InvalidKeyUsageException', `${arn} key usage is ${key.keyUsage} which is not valid for this operation.`);
  }
  const allowed = isRsa(key) ? RSA_ALGORITHMS : ['SYMMETRIC_DEFAULT'];
  if (!allowed.includes(algorithm)) {
    throw new KmsError('InvalidKeyUsageException', `The encryption algorithm ${algorithm} is not compatible with the key spec ${key.keySpec ?? 'SYMMETRIC_DEFAULT'} of ${arn}.`);
  }
  if (isRsa(key) && context && Object.keys(context).length > 0) {
    throw validation('EncryptionContext is not supported with asymmetric KMS keys.');
  }
}

function validation(detail: string): KmsError {
  return new KmsError('ValidationException', detail.startsWith('Value') ? `1 validation error detected: ${detail}` : detail);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}
