/**
 * A digest of the double's whole state: row count and sha256 over canonical rows per table, and
 * sha256 of every file under the files dir. Two instances with equal digests hold the same
 * instance, which is what backup/restore tests compare.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type pg from 'pg';

/** Tables that make up the instance (the `migrations` bookkeeping table is left out). */
export const STATE_TABLES = [
  'meta',
  'user',
  'access_token',
  'drive_file',
  'note',
  'relay',
  'instance',
  'emoji',
  'moderation_log',
  'system_webhook',
] as const;

export interface Fingerprint {
  readonly tables: Record<string, { count: number; sha256: string }>;
  readonly files: { count: number; bytes: number; sha256: string; list: Record<string, string> };
  readonly sha256: string;
}

async function walk(dir: string, root: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const ent of entries) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) await walk(p, root, out);
    else if (ent.isFile()) out.push(relative(root, p));
  }
}

/** Computes the fingerprint; jsonb text output has a fixed key order, so rows are canonical. */
export async function fingerprint(pool: pg.Pool, filesDir: string): Promise<Fingerprint> {
  const tables: Record<string, { count: number; sha256: string }> = {};
  const client = await pool.connect();
  try {
    // Timestamps render in the session time zone; pin it so servers in other zones compare equal.
    await client.query(`SET TIME ZONE 'UTC'`);
    for (const t of STATE_TABLES) {
      const r = await client.query<{ row: string }>(`SELECT to_jsonb(t)::text AS "row" FROM "${t}" t ORDER BY 1`);
      const h = createHash('sha256');
      for (const { row } of r.rows) h.update(row).update('\n');
      tables[t] = { count: r.rowCount ?? 0, sha256: h.digest('hex') };
    }
  } finally {
    client.release();
  }
  const names: string[] = [];
  await walk(filesDir, filesDir, names);
  names.sort();
  const list: Record<string, string> = {};
  const fh = createHash('sha256');
  let bytes = 0;
  for (const name of names) {
    const data = await readFile(join(filesDir, name));
    bytes += data.length;
    const digest = createHash('sha256').update(data).digest('hex');
    list[name] = digest;
    fh.update(`${name}\0${digest}\n`);
  }
  const files = { count: names.length, bytes, sha256: fh.digest('hex'), list };
  const all = createHash('sha256')
    .update(JSON.stringify({ tables, files: files.sha256 }))
    .digest('hex');
  return { tables, files, sha256: all };
}
