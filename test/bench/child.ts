/**
 * One bench measurement in a process of its own, so that its peak RSS is its own.
 *
 * Usage: node out/test/bench/child.js '<JSON NodeJob>'. Prints one JSON line, `{ "ms": … }`: the time from just
 * before the first byte is read to just after the output is fsynced (module loading and Node start-up excluded).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { BENCH_KEY_NAME, BENCH_NAMESPACE, type NodeJob } from './jobs.js';

const READ_CHUNK = 1024 * 1024;

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as NodeJob;
  const key = Buffer.from(job.keyHex, 'hex');
  // Each tool loads only its own library: the end-to-end times include module loading, and the ESDK (with the AWS
  // SDK's KMS client it pulls in) took ~0.45 s more CPU to load than Kenv's file path.
  const run = job.tool === 'kenv' ? await kenv(job, key) : await esdk(job, key);
  const start = process.hrtime.bigint();
  await run();
  await fsyncFile(job.output);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}

async function kenv(job: NodeJob, key: Buffer): Promise<() => Promise<void>> {
  const [{ DecryptStream }, { EncryptStream, prepareEncryption }, { decryptFile, encryptFile }, { RawAesKeyring }] = await Promise.all([
    import('../../electron/core/crypto/decrypt-stream.js'),
    import('../../electron/core/crypto/encrypt-stream.js'),
    import('../../electron/core/files.js'),
    import('../../electron/core/keyring/raw-aes-keyring.js'),
  ]);
  const keyring = new RawAesKeyring({ namespace: BENCH_NAMESPACE, name: BENCH_KEY_NAME, key });
  const frameLength = job.frameLength ? { frameLength: job.frameLength } : {};
  if (job.api === 'stream') {
    return async () => {
      const transform =
        job.op === 'encrypt'
          ? new EncryptStream(await prepareEncryption({ keyring, sign: job.sign, ...frameLength }))
          : new DecryptStream({ keyring });
      await pipeline(createReadStream(job.input, { highWaterMark: READ_CHUNK }), transform, createWriteStream(job.output));
    };
  }
  return async () => {
    if (job.op === 'encrypt') {
      await encryptFile(job.input, { keyring, outputPath: job.output, force: true, sign: job.sign, ...frameLength });
    } else {
      await decryptFile(job.input, { keyring, outputPath: job.output, force: true });
    }
  };
}

async function esdk(job: NodeJob, key: Buffer): Promise<() => Promise<void>> {
  const { AlgorithmSuiteIdentifier, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, buildClient } = await import('@aws-crypto/client-node');
  const { encryptStream, decryptStream } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyNamespace: BENCH_NAMESPACE,
    keyName: BENCH_KEY_NAME,
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const suiteId = job.sign
    ? AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
    : AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
  return async () => {
    const transform =
      job.op === 'encrypt'
        ? encryptStream(keyring, { suiteId, ...(job.frameLength ? { frameLength: job.frameLength } : {}) })
        : decryptStream(keyring);
    await pipeline(createReadStream(job.input, { highWaterMark: READ_CHUNK }), transform, createWriteStream(job.output));
  };
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
