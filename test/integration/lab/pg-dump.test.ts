import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { labSsh, sshExec, type LabSsh } from './lab-ssh';
import { randomWebPort, SmokeStack } from './smoke-stack';

const JAPANESE = '日本語のテキスト：バックアップ🗾と「復元」— ｶﾀｶﾅ';
const ROW_MD5 = `SELECT count(*) || ' ' || md5(string_agg(id || ':' || encode(b, 'hex') || ':' || s, ',' ORDER BY id)) FROM bytes_and_text;`;

/** The test table's data in an archive as plain SQL, via the host's pg_restore (sha256 for a short diff). */
function dataSection(archive: Buffer): string {
  const tmp = mkdtempSync(join(tmpdir(), 'ohlab-dump-'));
  try {
    writeFileSync(join(tmp, 'd.dump'), archive);
    const sql = execFileSync('pg_restore', ['--data-only', '-t', 'bytes_and_text', '-f', '-', join(tmp, 'd.dump')]);
    expect(sql.includes(Buffer.from(JAPANESE))).toBe(true);
    // pg_restore >= 15.14 wraps the script in \restrict <random key> ... \unrestrict <key>: not data
    const stable = sql.toString('latin1').replace(/^\\(un)?restrict .*$/gm, '');
    return createHash('sha256').update(stable, 'latin1').digest('hex');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('lab: pg_dump -Fc / pg_restore through docker compose exec -T over SSH', () => {
  let env: LabEnv;
  let c: LabSsh;
  let stack: SmokeStack;
  beforeAll(async () => {
    env = loadLabEnv();
    c = await labSsh(env, 'a');
    stack = new SmokeStack(env, 'a', c.client, { spelling: 'v2', webPort: randomWebPort() });
    await stack.up();
  });
  afterAll(async () => {
    await stack?.down();
    c?.client.end();
  });

  it('dump is byte-intact: every byte value 0-255 in bytea plus Japanese text restores identically', async () => {
    // one row per byte value, one row with all 256 bytes, one with CR/LF/NUL-heavy data, text rows in Japanese
    await stack.psql(
      'misskey',
      `CREATE TABLE bytes_and_text (id int PRIMARY KEY, b bytea NOT NULL, s text NOT NULL);
       INSERT INTO bytes_and_text SELECT i, set_byte('\\x00'::bytea, 0, i), '${JAPANESE}' || i FROM generate_series(0, 255) i;
       INSERT INTO bytes_and_text SELECT 1000, string_agg(set_byte('\\x00'::bytea, 0, i), ''::bytea ORDER BY i), '${JAPANESE}' FROM generate_series(0, 255) i;
       INSERT INTO bytes_and_text VALUES (1001, '\\x0d0a000d0a1a1b7f80ff'::bytea, E'line1\\r\\nline2\\n\\t${JAPANESE}');`,
    );
    const before = (await stack.psql('misskey', ROW_MD5)).trim();
    expect(before).toMatch(/^258 [0-9a-f]{32}$/);
    expect((await stack.psql('misskey', 'SELECT s FROM bytes_and_text WHERE id = 1000;')).trim()).toBe(JAPANESE);
    const all = (await stack.psql('misskey', "SELECT encode(b, 'hex') FROM bytes_and_text WHERE id = 1000;")).trim();
    expect(all).toBe(Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex'));

    // the dump streamed back over SSH (stdin of this exec is /dev/null)
    const dump = await sshExec(c.client, stack.compose('exec -T db pg_dump -Fc -U misskey misskey'));
    expect(dump.code, dump.stderr.toString()).toBe(0);
    expect(dump.stdout.subarray(0, 5).toString('latin1')).toBe('PGDMP');
    // the host's pg_restore reads the same bytes: the archive was not mangled by a PTY or newline translation
    const tmp = mkdtempSync(join(tmpdir(), 'ohlab-dump-'));
    try {
      writeFileSync(join(tmp, 'd.dump'), dump.stdout);
      const list = execFileSync('pg_restore', ['--list', join(tmp, 'd.dump')], { encoding: 'utf8' });
      expect(list).toMatch(/TABLE DATA public bytes_and_text/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }

    // restore into another database: only pg_restore's exec gets the dump on stdin
    const restore = await sshExec(
      c.client,
      `${stack.compose('exec -T db createdb -U misskey restored')} && ${stack.compose('exec -T db pg_restore --no-owner -U misskey -d restored', true)}`,
      dump.stdout,
    );
    expect(restore.code, restore.stderr.toString()).toBe(0);
    expect((await stack.psql('restored', ROW_MD5)).trim()).toBe(before);

    // and dumping the restored database again gives the same data section, byte for byte
    const again = await sshExec(c.client, stack.compose('exec -T db pg_dump -Fc -U misskey restored'));
    expect(again.code, again.stderr.toString()).toBe(0);
    expect(dataSection(again.stdout)).toBe(dataSection(dump.stdout));
  });
});
