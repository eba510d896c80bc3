import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OpenBatch, SealBatch } from '../format/frames.js';
import { type OpenAtBatch, type OpenAtResult, type SealAtBatch, FileSideError } from './file-frames.js';

export type WorkerJob =
  | { id: number; op: 'seal'; batch: SealBatch }
  | { id: number; op: 'open'; batch: OpenBatch }
  | { id: number; op: 'sealAt'; batch: SealAtBatch }
  | { id: number; op: 'openAt'; batch: OpenAtBatch };

export type WorkerReply =
  | { id: number; ok: true; output: Uint8Array }
  | { id: number; ok: true; written: number }
  | {
      id: number;
      ok: false;
      sequence: number;
      reason: 'iv' | 'tag' | 'layout' | 'stopped' | 'error';
      message?: string;
      /** For I/O errors in file jobs: which file, and the errno code. */
      side?: 'input' | 'output';
      code?: string;
    };

export type OpenOutcome = { ok: true; plaintext: Buffer } | { ok: false; sequence: number; reason: 'iv' | 'tag' };

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * A small pool of frame workers shared by every stream in the process.
 *
 * Jobs go to the worker with the fewest pending jobs. A worker holds a ref on the event loop only while it has
 * work, so an idle pool never keeps a CLI process alive.
 */
export class FramePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number = defaultPoolSize()) {}

  /** Encrypts a batch of frames; the batch's plaintext buffer is transferred to the worker. */
  async seal(batch: SealBatch): Promise<Buffer> {
    const reply = await this.run({ op: 'seal', batch }, [batch.plaintext]);
    if (!reply.ok || !('output' in reply)) throw workerFailure(reply);
    return Buffer.from(reply.output.buffer, reply.output.byteOffset, reply.output.byteLength);
  }

  /** Decrypts and authenticates a batch of frames; the serialized frames are transferred to the worker. */
  async open(batch: OpenBatch): Promise<OpenOutcome> {
    const reply = await this.run({ op: 'open', batch }, [batch.frames]);
    if (reply.ok && 'output' in reply) return { ok: true, plaintext: Buffer.from(reply.output.buffer, reply.output.byteOffset, reply.output.byteLength) };
    if (reply.ok || reply.reason === 'error' || reply.reason === 'layout' || reply.reason === 'stopped') throw workerFailure(reply);
    return { ok: false, sequence: reply.sequence, reason: reply.reason };
  }

  /** Seals plaintext read from one file into frames written at their offset in another; returns the bytes written. */
  async sealAt(batch: SealAtBatch): Promise<number> {
    const reply = await this.run({ op: 'sealAt', batch }, []);
    if (!reply.ok || !('written' in reply)) throw workerFailure(reply);
    return reply.written;
  }

  /** Opens frames read from one file and writes their plaintext at its offset in another, once all of them verified. */
  async openAt(batch: OpenAtBatch): Promise<OpenAtResult> {
    const reply = await this.run({ op: 'openAt', batch }, []);
    if (reply.ok && 'written' in reply) return { ok: true, written: reply.written };
    if (reply.ok || reply.reason === 'error') throw workerFailure(reply);
    return { ok: false, sequence: reply.sequence, reason: reply.reason };
  }

  /** Stops every worker. The shared pool is never closed; pools made for a test or a bench are. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private run(job: Omit<WorkerJob, 'id'>, buffers: Uint8Array[]): Promise<WorkerReply> {
    if (this.closed) return Promise.reject(new Error('frame pool is closed'));
    const slot = this.pickSlot();
    const id = this.nextId++;
    const transfer = buffers.filter(ownsWholeBuffer).map((b) => b.buffer as ArrayBuffer);
    return new Promise<WorkerReply>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ ...job, id } as WorkerJob, transfer);
    });
  }

  private pickSlot(): Slot {
    if (this.slots.length < this.size) {
      const least = this.slots.find((s) => s.pending.size === 0);
      if (least) return least;
      const slot = this.spawn();
      this.slots.push(slot);
      return slot;
    }
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < best.pending.size) best = s;
    return best;
  }

  private spawn(): Slot {
    const worker = createWorker();
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      p.resolve(reply);
    });
    const fail = (error: Error): void => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const p of slot.pending.values()) p.reject(error);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (slot.pending.size > 0) fail(new Error(`frame worker exited with code ${code}`));
    });
    return slot;
  }
}

/** A worker's I/O error keeps its side and errno code (a FileSideError); anything else is a plain Error. */
function workerFailure(reply: WorkerReply): Error {
  if (reply.ok) return new Error('frame worker sent a reply of the wrong kind');
  const message = `frame worker failed: ${reply.message ?? reply.reason}`;
  return reply.side ? new FileSideError(reply.side, reply.code ?? '', reply.message ?? message) : new Error(message);
}

function ownsWholeBuffer(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !(b.buffer instanceof SharedArrayBuffer);
}

/** Two workers on two cores leave the main thread free for I/O; more than four never helped (see the bench). */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

// The compiled product loads frame-worker.js beside the running module: in tsc's out/ (the app, the bench) and in
// the CLI bundle, whose build puts its own worker beside it (build/scripts/build-cli.mjs). When the sources run
// directly (Vitest, tsx, the dev build), the worker is the .ts file: a worker thread does not inherit the parent's
// TypeScript loader, so it registers tsx (a devDependency, present wherever sources run) before importing it.
const runningFromSource = import.meta.url.endsWith('.ts');

function createWorker(): Worker {
  if (!runningFromSource) return new Worker(new URL('./frame-worker.js', import.meta.url));
  const url = new URL('./frame-worker.ts', import.meta.url).href;
  const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true });
}

let shared: FramePool | undefined;

/** The process-wide pool. */
export function sharedFramePool(): FramePool {
  shared ??= new FramePool();
  return shared;
}
