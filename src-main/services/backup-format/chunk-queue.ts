/**
 * A bounded async queue of byte chunks: `push` waits while more than `maxBytes` are queued, the
 * consumer iterates. This is the only place where part data waits between the producer (archive +
 * zstd) and the encryptors, so it sets the memory bound of the backup pipeline.
 */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  private readonly items: Uint8Array[] = [];
  private bytes = 0;
  private ended = false;
  private error: unknown;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly maxBytes: number) {}

  async push(chunk: Uint8Array): Promise<void> {
    while (this.bytes > 0 && this.bytes + chunk.length > this.maxBytes && this.error === undefined) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
    if (this.error !== undefined) throw this.error;
    this.items.push(chunk);
    this.bytes += chunk.length;
    this.wake('consumer');
  }

  end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  /** Fails both sides (producer's next push and consumer's next read). */
  fail(err: unknown): void {
    this.error = err ?? new Error('queue failed');
    this.items.length = 0;
    this.bytes = 0;
    this.wake('consumer');
    this.wake('producer');
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const next = this.items.shift();
      if (next) {
        this.bytes -= next.length;
        this.wake('producer');
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
  }

  private wake(who: 'consumer' | 'producer'): void {
    const fn = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    fn?.();
  }
}

/**
 * Re-chunks any byte stream into fresh, exactly `size`-byte chunks (the last may be shorter).
 * Fresh buffers can be transferred to a worker without touching Node's shared buffer pool.
 */
export async function* rechunk(source: AsyncIterable<Uint8Array | Buffer | string>, size: number): AsyncGenerator<Uint8Array> {
  // Not zero-filled (every byte is written before the chunk is yielded; the last one is a copy of
  // what was): zeroing 1 MiB per MiB cost a memset, or a page fault per 4 KiB of new memory.
  const fresh = () => Buffer.allocUnsafeSlow(size);
  let buf: Uint8Array = fresh();
  let fill = 0;
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    if (fill === 0 && chunk.length === size && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) {
      yield new Uint8Array(chunk.buffer, 0, size); // already a whole, owned chunk: no copy
      continue;
    }
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(size - fill, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        yield buf;
        buf = fresh();
        fill = 0;
      }
    }
  }
  if (fill > 0) yield new Uint8Array(buf.subarray(0, fill)); // a copy: its own, exact buffer
}

/**
 * Gives a buffer's memory back at once instead of at the next GC (Node 22's
 * `ArrayBuffer.prototype.transfer`: the old buffer is detached and its memory freed; a no-op where
 * that is missing). Only for memory nothing else uses any more: every view of it becomes empty.
 * Why: on the 2-core VM, new memory is what costs (every 4 KiB faulted in, ≈ 1 s of kernel time
 * per GiB of fresh 1 MiB buffers, against 0.2 s when each is freed once used and the next
 * allocation gets the same memory back: docs/architecture.md#performance).
 */
export function freeMemory(buffer: ArrayBufferLike): void {
  const ab = buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer; detached?: boolean };
  if (typeof ab.transfer !== 'function' || ab.detached || ab.byteLength === 0) return;
  try {
    ab.transfer(0);
  } catch {
    // not detachable (e.g. WebAssembly memory): left to the GC
  }
}

/**
 * Lends `chunks` to a consumer: each chunk is valid only until the consumer asks for the next one
 * (or stops), and its memory is then freed (freeMemory) once every chunk over the same buffer has
 * been handed out. So the consumer must be done with a chunk — written, copied, or consumed by a
 * decompressor — before it asks for the next one: `for await (const c of lent) await write(c)` is
 * right; `Readable.from(lent)` or a `pipeline` (which queue chunks ahead) are not.
 *
 * The chunks' buffers must be the producer's alone, and a buffer's chunks must come one after the
 * other: true of the verified payload (parts-reader.ts), where each is a ciphertext chunk the part's
 * source read (rechunk) with the data written over it.
 */
export async function* lendChunks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let lent: ArrayBufferLike | undefined;
  try {
    for await (const c of chunks) {
      // the consumer is done with every chunk before this one; a buffer it has seen the last of goes
      if (lent && c.buffer !== lent) freeMemory(lent);
      lent = c.buffer;
      yield c;
    }
  } finally {
    if (lent) freeMemory(lent);
  }
}
