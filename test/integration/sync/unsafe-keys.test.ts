// Hostile object keys through the real sync engine and a real S3 server: a bucket writer must not be able to place
// a file outside the vault folder, nor inside Kenv's own folders, by naming an object `../x.kenv`, `a\b.kenv` or
// `.kenv-sync/…`.
//
// s3rver stores objects as files and normalises such keys on the way in, so it cannot hold them. Real S3 can. The
// sync's client therefore gets a middleware that plays that bucket: its listings gain the hostile keys, and a GET
// or HEAD of one of them is served from a real object (a valid message), as S3 would serve the hostile object.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../../electron/core/sync/s3-client.js';
import { kenvMessage } from '../../support/kenv-fixtures.js';
import { localFiles, remoteKeys, startSyncWorld, type SyncWorld } from './helpers.js';

let world: SyncWorld;
const clients: S3Client[] = [];
beforeAll(async () => {
  world = await startSyncWorld();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await world?.close();
});

const HOSTILE = ['../x.kenv', 'a\\b.kenv', '.kenv-sync/index.kenv', '.kenv-trash/t.kenv', 'a/../../y.kenv', 'a//b.kenv', '/abs.kenv'];

function splitRemote(remote: string): { bucket: string; prefix: string } {
  const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(remote) ?? [];
  return { bucket, prefix: `${prefix}/` };
}

/** A client (built as the CLI builds it) that sees `hostile` (paths under the remote's prefix) as objects holding the bytes of `decoyKey`. */
async function hostileClient(remote: string, hostile: string[], decoyKey: string): Promise<S3Client> {
  const client = await createS3Client();
  clients.push(client);
  const { bucket, prefix } = splitRemote(remote);
  const head = await world.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: decoyKey }));
  const hostileKeys = new Set(hostile.map((p) => prefix + p));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string; Prefix?: string };
      if ((context.commandName === 'GetObjectCommand' || context.commandName === 'HeadObjectCommand') && input.Key && hostileKeys.has(input.Key)) {
        args = { ...args, input: { ...input, Key: decoyKey } };
      }
      const result = await next(args);
      if (context.commandName === 'ListObjectsV2Command' && input.Prefix === prefix) {
        const output = result.output as ListObjectsV2CommandOutput;
        output.Contents = [...(output.Contents ?? []), ...[...hostileKeys].map((Key) => ({ Key, Size: head.ContentLength, ETag: head.ETag }))];
      }
      return result;
    },
    { step: 'initialize', name: 'hostileBucket' },
  );
  return client;
}

async function putRaw(bucket: string, key: string): Promise<void> {
  await world.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await kenvMessage(key) }));
}

describe('sync with hostile remote keys', () => {
  it('skips each unsafe key as unsafe-remote-key, downloads only the safe one, and writes nothing outside the vault or in its state folders', async () => {
    const remote = world.newRemote();
    const { bucket, prefix } = splitRemote(remote);
    await putRaw(bucket, 'elsewhere/decoy.kenv');
    await putRaw(bucket, `${prefix}safe.kenv`);
    const outer = await world.newVault();
    const vault = join(outer, 'vault');
    await mkdir(vault);
    const s3 = await hostileClient(remote, HOSTILE, 'elsewhere/decoy.kenv');
    const sync = await world.syncer(vault, remote, { s3 });

    const report = await sync.sync();

    expect(report.failed).toEqual([]);
    expect(report.downloaded).toEqual(['safe.kenv']);
    expect(report.skipped.filter((s) => s.reason === 'unsafe-remote-key').map((s) => s.path).sort()).toEqual([...HOSTILE].sort());
    expect(await localFiles(vault)).toEqual(['safe.kenv']);
    expect(await readdir(outer)).toEqual(['vault']);
    const state = await localFiles(vault, true);
    expect(state.filter((p) => p.startsWith('.kenv-sync/') && p.endsWith('.kenv'))).toEqual([]);
    expect(state.filter((p) => p.startsWith('.kenv-trash/'))).toEqual([]);
  });

  it('on the next sync the unsafe keys are still skipped, nothing is downloaded and nothing is deleted remotely', async () => {
    const remote = world.newRemote();
    const { bucket, prefix } = splitRemote(remote);
    await putRaw(bucket, `${prefix}decoy.kenv`);
    const vault = await world.newVault();
    const s3 = await hostileClient(remote, ['../x.kenv'], `${prefix}decoy.kenv`);
    const sync = await world.syncer(vault, remote, { s3 });
    expect((await sync.sync()).downloaded).toEqual(['decoy.kenv']);
    const again = await sync.sync();
    expect(again.failed).toEqual([]);
    expect(again.downloaded).toEqual([]);
    expect(again.deletedRemote).toEqual([]);
    expect(again.skipped).toContainEqual(expect.objectContaining({ path: '../x.kenv', reason: 'unsafe-remote-key' }));
    expect(await localFiles(vault)).toEqual(['decoy.kenv']);
    expect(await remoteKeys(world.s3, remote)).toEqual(['decoy.kenv']);
  });
});
