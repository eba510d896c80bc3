/** A FIFO of input chunks that can be peeked and consumed across chunk boundaries without copying the whole. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first `n` bytes, contiguous (a view when they sit in one chunk, a copy otherwise). */
  peek(n: number): Buffer {
    const head = this.chunks[0];
    if (head && head.length >= n) return head.subarray(0, n);
    return this.copyOut(Buffer.allocUnsafe(n), 0, n, false);
  }

  /** Moves the first `n` bytes into `target` at `offset`. */
  consumeInto(target: Buffer, offset: number, n: number): void {
    this.copyOut(target, offset, n, true);
  }

  /** Drops the first `n` bytes. */
  skip(n: number): void {
    let left = n;
    while (left > 0) {
      const head = this.chunks[0]!;
      if (head.length <= left) {
        left -= head.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = head.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
  }

  /** Everything buffered, as one buffer. */
  all(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks, this.length);
    this.chunks = joined.length ? [joined] : [];
    return joined;
  }

  private copyOut(target: Buffer, offset: number, n: number, consume: boolean): Buffer {
    let filled = 0;
    let index = 0;
    while (filled < n) {
      const chunk = this.chunks[index++]!;
      const take = Math.min(chunk.length, n - filled);
      chunk.copy(target, offset + filled, 0, take);
      filled += take;
    }
    if (consume) this.skip(n);
    return target;
  }
}
