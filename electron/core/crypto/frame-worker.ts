/**
 * A worker thread that seals and opens batches of frames (see frames.ts).
 *
 * Frames are independent given the derived key, so batches of one message run on several workers at once.
 * Key bytes arrive in each job and are zeroed as soon as the job is done.
 */
import { parentPort } from 'node:worker_threads';
import { openBatch, sealBatch } from '../format/frames.js';
import { FileSideError, openAt, sealAt } from './file-frames.js';
import type { WorkerJob, WorkerReply } from './frame-pool.js';

const port = parentPort;
if (!port) throw new Error('frame-worker.ts must run in a worker thread');

port.on('message', (job: WorkerJob) => {
  let reply: WorkerReply;
  try {
    if (job.op === 'seal') {
      const out = sealBatch(job.batch);
      reply = { id: job.id, ok: true, output: toTransferable(out) };
    } else if (job.op === 'open') {
      const result = openBatch(job.batch);
      reply = result.ok
        ? { id: job.id, ok: true, output: toTransferable(result.plaintext) }
        : { id: job.id, ok: false, sequence: result.sequence, reason: result.reason };
    } else if (job.op === 'sealAt') {
      reply = { id: job.id, ok: true, written: sealAt(job.batch) };
    } else {
      const result = openAt(job.batch);
      reply = result.ok
        ? { id: job.id, ok: true, written: result.written }
        : { id: job.id, ok: false, sequence: result.sequence, reason: result.reason };
    }
  } catch (e) {
    reply = { id: job.id, ok: false, sequence: -1, reason: 'error', message: e instanceof Error ? e.message : String(e) };
    if (e instanceof FileSideError) reply = { ...reply, side: e.side, code: e.code };
  } finally {
    job.batch.key.fill(0);
  }
  port.postMessage(reply, reply.ok && 'output' in reply ? [reply.output.buffer as ArrayBuffer] : []);
});

/** A Uint8Array that owns its whole ArrayBuffer, so it can be transferred rather than copied. */
function toTransferable(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return new Uint8Array(buf.buffer, 0, buf.byteLength);
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return copy;
}
