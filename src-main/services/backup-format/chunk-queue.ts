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
