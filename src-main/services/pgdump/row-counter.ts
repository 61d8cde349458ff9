/**
 * Row counts of every table in a PostgreSQL custom-format archive (`pg_dump -Fc -Z0`), read on the
 * fly while the dump streams past (docs/backup-format.md, manifest field `tables`).
 *
 * The custom format (pg_backup_archiver.c / pg_backup_custom.c), as far as it matters here:
 *
 *   header   "PGDMP", version bytes major.minor.rev, intSize, offSize, format (1 = custom),
 *            compression (archive ≥ 1.15: one algorithm byte; before: an int level), creation time
 *            (7 ints), database name, server version, pg_dump version (strings)
 *   TOC      an int count, then per entry: dumpId, hadDumper, table oid, oid, tag, desc, section,
 *            defn, dropStmt, copyStmt, namespace, tablespace, tableam (≥ 1.14), relkind (an int,
 *            ≥ 1.16), owner, "with oids", dependencies (strings up to a NULL string), and the custom
 *            format's data offset (a flag byte + offSize bytes)
 *   data     blocks: a type byte (1 = table data, 3 = large objects) and the dumpId, then chunks of
 *            an int length and that many bytes, up to a zero length; a large-object block is a
 *            list of (oid, chunks) up to a zero oid. The archive ends after the last block.
 *
 * An int is a sign byte and intSize bytes, least significant first; a string is an int length
 * (-1 for NULL) and that many bytes. Without compression a TABLE DATA block's bytes are the COPY
 * text of the table, one line per row (COPY escapes newlines inside values), then pg_dump's end
 * marker `\.` on a line of its own and two empty lines; so its row count is its number of newline
 * bytes before that marker (a data line is never `\.`: COPY writes a backslash as `\\`; a table
 * without columns has empty lines as rows, which is why only what follows the marker is left
 * out). Archive versions 1.14 (PostgreSQL 12–15), 1.15 (16) and 1.16 (17)
 * are read; anything else, or a compressed archive, yields no counts.
 *
 * Cheap by construction: the TOC is parsed once, data bytes are only searched with
 * `Buffer.indexOf`, nothing is copied except the TOC and a few bytes of a field split across two
 * chunks. It never throws: a dump it cannot follow gives `{ ok: false, reason }`, and the backup
 * goes on without counts.
 */

export type RowCountResult =
  | { readonly ok: true; readonly version: string; readonly tables: Readonly<Record<string, number>> }
  | { readonly ok: false; readonly reason: string };

/** Archive versions read here: 1.12 … 1.16 (PostgreSQL 9.0 … 17). */
const MIN_VERSION = version(1, 12, 0);
const MAX_VERSION = version(1, 16, 255);
const K_VERS_1_14 = version(1, 14, 0);
const K_VERS_1_15 = version(1, 15, 0);
const K_VERS_1_16 = version(1, 16, 0);
const ARCH_CUSTOM = 1;
const BLK_DATA = 1;
const BLK_BLOBS = 3;
/** A TOC larger than this is not followed (a Misskey database's is well under 1 MiB). */
const MAX_TOC_BYTES = 64 << 20;
const NL = 0x0a;
/** Segments shorter than this are copied together, so the end marker is found even when split. */
const TAIL = 16;

function version(major: number, minor: number, rev: number): number {
  return (major * 256 + minor) * 256 + rev;
}

class NeedMore extends Error {}
class Unreadable extends Error {}

/** Reads the header and TOC from one buffer; throws NeedMore when it ends too early. */
class HeadReader {
  pos = 0;
  intSize = 4;
  constructor(private readonly b: Buffer) {}

  byte(): number {
    if (this.pos >= this.b.length) throw new NeedMore();
    return this.b[this.pos++]!;
  }

  int(): number {
    const end = this.pos + 1 + this.intSize;
    if (end > this.b.length) throw new NeedMore();
    const v = readInt(this.b, this.pos, this.intSize);
    this.pos = end;
    return v;
  }

  /** A string, or null for the NULL string. */
  str(): string | null {
    const n = this.int();
    if (n === -1) return null;
    if (n < 0) throw new Unreadable(`bad string length ${n}`);
    if (this.pos + n > this.b.length) throw new NeedMore();
    const s = this.b.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  skip(n: number): void {
    if (this.pos + n > this.b.length) throw new NeedMore();
    this.pos += n;
  }
}

function readInt(b: Buffer, at: number, intSize: number): number {
  let v = 0;
  for (let i = intSize - 1; i >= 0; i--) v = v * 256 + b[at + 1 + i]!;
  return b[at] ? -v : v;
}

interface Head {
  readonly version: string;
  readonly intSize: number;
  /** TABLE DATA entries by dumpId: `schema.table`. */
  readonly tables: Map<number, string>;
  /** Where the data blocks start. */
  readonly end: number;
}

function parseHead(b: Buffer): Head {
  const r = new HeadReader(b);
  r.skip(5);
  if (b.toString('latin1', 0, 5) !== 'PGDMP') throw new Unreadable('not a custom-format archive (no PGDMP magic)');
  const vmaj = r.byte();
  const vmin = r.byte();
  const vrev = vmaj > 1 || (vmaj === 1 && vmin > 0) ? r.byte() : 0;
  const v = version(vmaj, vmin, vrev);
  const label = `${vmaj}.${vmin}.${vrev}`;
  if (v < MIN_VERSION || v > MAX_VERSION) throw new Unreadable(`archive version ${label} is not supported`);
  r.intSize = r.byte();
  if (r.intSize < 1 || r.intSize > 6) throw new Unreadable(`integer size ${r.intSize} is not supported`);
  const offSize = r.byte();
  if (offSize < 1 || offSize > 16) throw new Unreadable(`offset size ${offSize} is not supported`);
  const format = r.byte();
  if (format !== ARCH_CUSTOM) throw new Unreadable(`archive format ${format} is not the custom format`);
  const compressed = v >= K_VERS_1_15 ? r.byte() !== 0 : r.int() !== 0;
  if (compressed) throw new Unreadable('the archive is compressed (pg_dump -Z0 writes an uncompressed one)');
  for (let i = 0; i < 7; i++) r.int(); // creation time
  r.str(); // database name
  r.str(); // server version
  r.str(); // pg_dump version
  const count = r.int();
  if (count < 0) throw new Unreadable(`bad TOC count ${count}`);
  const tables = new Map<number, string>();
  const keys = new Set<string>();
  for (let i = 0; i < count; i++) {
    const dumpId = r.int();
    if (dumpId <= 0) throw new Unreadable(`TOC entry id ${dumpId} out of range`);
    const hadDumper = r.int();
    r.str(); // table oid
    r.str(); // oid
    const tag = r.str();
    const desc = r.str();
    r.int(); // section
    r.str(); // defn
    r.str(); // dropStmt
    r.str(); // copyStmt
    const namespace = r.str();
    r.str(); // tablespace
    if (v >= K_VERS_1_14) r.str(); // tableam
    if (v >= K_VERS_1_16) r.int(); // relkind
    r.str(); // owner
    r.str(); // "with oids"
    while (r.str() !== null); // dependencies
    r.skip(1 + offSize); // data offset: flag byte + offset
    if (desc === 'TABLE DATA' && hadDumper) {
      const key = `${namespace ?? ''}.${tag ?? ''}`;
      if (keys.has(key)) throw new Unreadable(`two TABLE DATA entries for ${key}`);
      keys.add(key);
      tables.set(dumpId, key);
    }
  }
  return { version: label, intSize: r.intSize, tables, end: r.pos };
}

type Phase = 'head' | 'block-type' | 'block-id' | 'chunk-len' | 'data' | 'blob-oid' | 'failed';

/**
 * Feed it the dump's bytes in order (`push`), then `finish()`. Holds no reference to the chunks it
 * was given.
 */
export class DumpRowCounter {
  private phase: Phase = 'head';
  private failure = '';
  private head: Buffer[] = [];
  private headBytes = 0;
  private nextTry = 0;
  private intSize = 4;
  private version = '';
  private tableKeys = new Map<number, string>();
  private rows = new Map<number, number>();
  /** Bytes of a field split across chunks. */
  private carry = Buffer.alloc(0);
  private blockType = 0;
  /** dumpId of the block being read (its rows are counted when it is a table's). */
  private current = 0;
  private counting = false;
  /** Newlines of the current table's block so far. */
  private blockRows = 0;
  /**
   * The block's last data bytes (a view of the last segment, or a small copy when segments are
   * short) and the byte before them (-1 at the block's start), to find the end marker.
   */
  private last: Buffer | undefined;
  private beforeLast = -1;
  private remaining = 0;
  private total = 0;

  push(chunk: Uint8Array): void {
    if (this.phase === 'failed' || chunk.length === 0) return;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    try {
      this.total += b.length;
      if (this.phase === 'head') this.pushHead(b);
      else this.pushBlocks(b, 0);
    } catch (e) {
      this.fail(e instanceof Unreadable ? e.message : `unexpected: ${(e as Error).message}`);
    }
  }

  finish(): RowCountResult {
    if (this.phase === 'failed') return { ok: false, reason: this.failure };
    if (this.phase === 'head') return { ok: false, reason: `the dump ended inside its header or TOC (${this.total} bytes)` };
    if (this.phase !== 'block-type' || this.carry.length > 0) return { ok: false, reason: 'the dump ended inside a data block' };
    const tables: Record<string, number> = {};
    for (const [id, key] of this.tableKeys) {
      const n = this.rows.get(id);
      if (n === undefined) return { ok: false, reason: `no data block for ${key}` };
      tables[key] = n;
    }
    return { ok: true, version: this.version, tables };
  }

  private fail(reason: string): void {
    this.phase = 'failed';
    this.failure = reason;
    this.head = [];
    this.carry = Buffer.alloc(0);
  }

  private pushHead(b: Buffer): void {
    this.head.push(b);
    this.headBytes += b.length;
    // Parse again only once the buffer has doubled: a large TOC costs O(n), not O(n²).
    if (this.headBytes < this.nextTry) return;
    const all = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [all];
    let h: Head;
    try {
      h = parseHead(all);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      if (this.headBytes > MAX_TOC_BYTES) throw new Unreadable('the TOC is larger than 64 MiB');
      this.nextTry = this.headBytes * 2;
      return;
    }
    this.head = [];
    this.intSize = h.intSize;
    this.version = h.version;
    this.tableKeys = h.tables;
    this.phase = 'block-type';
    this.pushBlocks(all, h.end);
  }

  /** The next `n` bytes as a buffer (from `carry` + `b`), or undefined when `b` ran out first (kept in carry). */
  private field(b: Buffer, pos: number, n: number): { bytes: Buffer; at: number; next: number } | undefined {
    if (this.carry.length === 0 && pos + n <= b.length) return { bytes: b, at: pos, next: pos + n };
    const need = n - this.carry.length;
    if (b.length - pos < need) {
      this.carry = Buffer.concat([this.carry, b.subarray(pos)]);
      return undefined;
    }
    const bytes = Buffer.concat([this.carry, b.subarray(pos, pos + need)]);
    this.carry = Buffer.alloc(0);
    return { bytes, at: 0, next: pos + need };
  }

  private pushBlocks(b: Buffer, start: number): void {
    let pos = start;
    let nextNl = -2;
    const intLen = 1 + this.intSize;
    while (pos < b.length) {
      if (this.phase === 'data') {
        const end = Math.min(b.length, pos + this.remaining);
        if (this.counting) {
          // The next newline at or after pos, found once: a newline past `end` is kept for the
          // next segment of this buffer (rows are short chunks: one search per row, not two).
          if (nextNl !== -1 && nextNl < pos) nextNl = b.indexOf(NL, pos);
          while (nextNl !== -1 && nextNl < end) {
            this.blockRows++;
            nextNl = b.indexOf(NL, nextNl + 1);
          }
          this.keepLast(b, pos, end);
        }
        this.remaining -= end - pos;
        pos = end;
        if (this.remaining === 0) this.phase = 'chunk-len';
        continue;
      }
      if (this.phase === 'block-type') {
        const f = this.field(b, pos, 1);
        if (!f) return;
        this.blockType = f.bytes[f.at]!;
        if (this.blockType !== BLK_DATA && this.blockType !== BLK_BLOBS) throw new Unreadable(`unknown data block type ${this.blockType}`);
        pos = f.next;
        this.phase = 'block-id';
        continue;
      }
      const f = this.field(b, pos, intLen);
      if (!f) return;
      pos = f.next;
      const v = readInt(f.bytes, f.at, this.intSize);
      if (this.phase === 'block-id') {
        this.current = v;
        this.counting = this.blockType === BLK_DATA && this.tableKeys.has(v);
        if (this.counting) {
          if (this.rows.has(v)) throw new Unreadable(`two data blocks for ${this.tableKeys.get(v)}`);
          this.blockRows = 0;
          this.last = undefined;
          this.beforeLast = -1;
        }
        this.phase = this.blockType === BLK_BLOBS ? 'blob-oid' : 'chunk-len';
      } else if (this.phase === 'blob-oid') {
        this.phase = v === 0 ? 'block-type' : 'chunk-len';
      } else {
        // chunk-len
        if (v < 0) throw new Unreadable(`negative chunk length ${v}`);
        if (v > 0) {
          this.remaining = v;
          this.phase = 'data';
        } else if (this.blockType === BLK_BLOBS) this.phase = 'blob-oid';
        else {
          if (this.counting) {
            this.rows.set(this.current, this.blockRows - this.afterMarker());
            this.last = undefined;
          }
          this.phase = 'block-type';
        }
      }
    }
  }

  /** Keeps the block's last bytes: a view of a long segment, else at most TAIL + its bytes copied. */
  private keepLast(b: Buffer, start: number, end: number): void {
    const prev = this.last;
    if (end - start >= TAIL || !prev) {
      if (prev) this.beforeLast = prev[prev.length - 1]!;
      this.last = b.subarray(start, end);
      return;
    }
    const keep = Math.min(prev.length, TAIL);
    if (keep < prev.length) this.beforeLast = prev[prev.length - keep - 1]!;
    this.last = Buffer.concat([prev.subarray(prev.length - keep), b.subarray(start, end)]);
  }

  /** Newlines at the block's end that are not rows: the `\\.` line and the empty lines after it (0 without a marker). */
  private afterMarker(): number {
    const t = this.last;
    if (!t) return 0;
    let end = t.length;
    let empty = 0;
    while (end > 1 && t[end - 1] === NL && t[end - 2] === NL) {
      end--;
      empty++;
    }
    // Now t ends in "\\.\n" at the start of a line, or there is no marker.
    const m = end - 3;
    if (m < 0 || t[m] !== 0x5c || t[m + 1] !== 0x2e || t[m + 2] !== NL) return 0;
    const before = m > 0 ? t[m - 1] : this.beforeLast;
    return before === NL || before === -1 ? empty + 1 : 0;
  }
}

/** Counts rows of a whole dump held in memory (tests, small dumps). */
export function countDumpRows(dump: Uint8Array): RowCountResult {
  const c = new DumpRowCounter();
  c.push(dump);
  return c.finish();
}
