import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecompress } from 'node:zlib';
import { AppError } from '../../shared/errors';
import { CHUNK_SIZE } from './format';

/** A piece of a zstd stream; `end` marks the last piece of a frame. */
export interface FramePiece {
  readonly data: Uint8Array;
  readonly end: boolean;
}

const MAGIC = 0xfd2fb528;
const damaged = (why: string): AppError => new AppError('BACKUP_DAMAGED', `The compressed archive is damaged: ${why}`);

/**
 * Finds frame boundaries in a zstd stream (RFC 8878 §3.1: frame header, block headers and sizes,
 * optional checksum; skippable frames), without decompressing. Bodies are skipped by count, so
 * it costs a few comparisons per block.
 */
export class ZstdFrameScanner {
  private state: 'magic' | 'fhd' | 'header' | 'block' | 'body' | 'checksum' | 'skip-size' | 'skip' = 'magic';
  private need = 4;
  private acc: number[] = [];
  private lastBlock = false;
  private checksum = false;
  /** True between a frame's first byte and its last. */
  inFrame = false;

  /** Splits `chunk` into pieces, each within one frame. */
  push(chunk: Uint8Array): FramePiece[] {
    const out: FramePiece[] = [];
    let start = 0;
    let i = 0;
    while (i < chunk.length) {
      this.inFrame = true;
      if (this.state === 'body' || this.state === 'checksum' || this.state === 'skip' || this.state === 'header') {
        const n = Math.min(this.need, chunk.length - i);
        i += n;
        this.need -= n;
        if (this.need === 0 && this.afterSkip()) {
          out.push({ data: chunk.subarray(start, i), end: true });
          start = i;
        }
        continue;
      }
      this.acc.push(chunk[i++]!);
      if (this.acc.length < this.need) continue;
      const bytes = this.acc;
      this.acc = [];
      if (this.afterFields(bytes)) {
        out.push({ data: chunk.subarray(start, i), end: true });
        start = i;
      }
    }
    if (start < chunk.length) out.push({ data: chunk.subarray(start), end: false });
    return out;
  }

  /** Handles a collected fixed-size field; true when a frame ended. */
  private afterFields(b: number[]): boolean {
    const le = (): number => b.reduce((v, x, k) => v + x * 2 ** (8 * k), 0);
    switch (this.state) {
      case 'magic': {
        const m = le();
        if (m === MAGIC) return this.go('fhd', 1);
        if (m >>> 4 === 0x184d2a5) return this.go('skip-size', 4);
        throw damaged('not a zstd frame');
      }
      case 'fhd': {
        const d = b[0]!;
        const fcs = d >> 6;
        const single = (d >> 5) & 1;
        this.checksum = ((d >> 2) & 1) === 1;
        if ((d >> 3) & 1) throw damaged('reserved bit set');
        const rest = (single ? 0 : 1) + [0, 1, 2, 4][d & 3]! + [single ? 1 : 0, 2, 4, 8][fcs]!;
        return rest ? this.go('header', rest) : this.go('block', 3);
      }
      case 'block': {
        const v = le();
        this.lastBlock = (v & 1) === 1;
        const type = (v >> 1) & 3;
        if (type === 3) throw damaged('reserved block type');
        const size = type === 1 ? 1 : v >>> 3;
        return size ? this.go('body', size) : this.blockDone();
      }
      case 'skip-size':
        return le() ? this.go('skip', le()) : this.frameDone();
      default:
        throw new Error(`unexpected state ${this.state}`);
    }
  }

  /** A counted run of bytes ended; true when a frame ended. */
  private afterSkip(): boolean {
    switch (this.state) {
      case 'header':
        return this.go('block', 3);
      case 'body':
        return this.blockDone();
      case 'checksum':
      case 'skip':
        return this.frameDone();
      default:
        throw new Error(`unexpected state ${this.state}`);
    }
  }

  private blockDone(): boolean {
    if (!this.lastBlock) return this.go('block', 3);
    return this.checksum ? this.go('checksum', 4) : this.frameDone();
  }

  private frameDone(): boolean {
    this.state = 'magic';
    this.need = 4;
    this.inFrame = false;
    return true;
  }

  private go(state: ZstdFrameScanner['state'], need: number): false {
    this.state = state;
    this.need = need;
    return false;
  }
}

/**
 * Decompresses a zstd stream of one or more frames, each frame with its own decompressor ended
 * right after the frame's last byte. Why not one `createZstdDecompress` for the whole stream:
 * Node 22's compressor ends some streams with a second, empty frame, and its streaming
 * decompressor then fails ("Unknown frame descriptor") depending on how writes and the final
 * end() fall around that frame — a genuine backup was reported damaged (backup verify tests with
 * small parts; test/unit/backup-format/zstd-frames.test.ts).
 */
export function decompressFrames(compressed: AsyncIterable<Uint8Array>): Readable {
  const out = new PassThrough({ highWaterMark: CHUNK_SIZE });
  void (async () => {
    const scanner = new ZstdFrameScanner();
    let z: ReturnType<typeof createZstdDecompress> | undefined;
    let drained: Promise<void> | undefined;
    for await (const chunk of compressed) {
      // Whether zstd has taken in all of `chunk` (its last piece's write callback: zlib calls it
      // once the input is consumed, and keeps no reference after that).
      let consumed: Promise<void> | undefined;
      for (const piece of scanner.push(chunk)) {
        if (!z) {
          z = createZstdDecompress({ chunkSize: CHUNK_SIZE });
          drained = pipeline(z, out, { end: false });
          drained.catch(() => undefined);
        }
        const zz = z;
        consumed = new Promise<void>((resolve, reject) => zz.write(piece.data, (e) => (e ? reject(e) : resolve())));
        consumed.catch(() => undefined);
        if (piece.end) {
          z.end();
          await drained;
          z = undefined;
          consumed = undefined;
        }
      }
      // Before the next chunk is asked for: the input may be lent (lendVerifiedPayload), and the
      // writes of one chunk otherwise queue up (backpressure, as waiting for 'drain' did).
      if (consumed) await Promise.race([consumed, drained]);
      if (out.destroyed) return; // the reader failed: stop reading (ends the payload's iteration)
    }
    if (z || scanner.inFrame) throw damaged('it ends inside a frame');
    out.end();
  })().catch((e: unknown) => out.destroy(e as Error));
  return out;
}
