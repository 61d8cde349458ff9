/**
 * `seed`: fills a realistic instance straight into the DB and files dir (users, Japanese notes
 * with emoji, binary drive files with non-ASCII names, relays, blocked hosts, a suspended user,
 * remote instances, a custom emoji, limited-permission tokens) and prints a JSON summary.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { addDriveFile } from './drive-store';
import { insertEmoji } from './emoji-import';
import { genId, secureRndstr } from './ids';
import {
  createAppToken,
  createLocalUser,
  findUserById,
  findUserByName,
  getMeta,
  moderationLog,
  saveSettings,
  type Deps,
  type UserRow,
} from './state';

export interface SeedOptions {
  users: number;
  notes: number;
  files: number;
}

/** Parses `--users N --notes N --files N`. */
export function parseSeedArgs(argv: readonly string[]): SeedOptions {
  const opts: SeedOptions = { users: 5, notes: 50, files: 5 };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(users|notes|files)$/.exec(argv[i] ?? '');
    const v = Number(argv[i + 1]);
    if (m && Number.isInteger(v) && v >= 0) {
      opts[m[1] as keyof SeedOptions] = v;
      i++;
    } else {
      throw new Error(`seed: unknown or bad argument ${argv[i]} (use --users N --notes N --files N)`);
    }
  }
  return opts;
}

/** A 1×1 PNG, so the seeded emoji is a real image. */
const PNG_1X1 = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d4944415478da63f8cf00000301010018dd8db40000000049454e44ae426082',
  'hex',
);

const TEXTS = [
  '今日は良い天気 :blobcat: 🍣',
  'おはようございます☀️ 朝ごはんは味噌汁',
  '寿司食べたい 🍣🍣 #飯テロ',
  'Misskeyのバックアップ、ちゃんと取ってる？ :blobcat:',
  '改行\nあり\r\nの投稿 — “quotes” & <tags>',
  '絵文字だけ 🐱🐈‍⬛👩‍👩‍👧',
];

/** The existing root, or a new `admin` whose password the summary then reports. */
async function rootUser(deps: Deps): Promise<{ user: UserRow; password: string | null }> {
  const meta = await getMeta(deps.pool);
  if (meta.rootUserId) {
    const u = await findUserById(deps.pool, meta.rootUserId);
    if (u) return { user: u, password: null };
  }
  const password = secureRndstr(20);
  return { user: await createLocalUser(deps, 'admin', password), password };
}

async function ensureUser(deps: Deps, name: string): Promise<UserRow> {
  return (await findUserByName(deps.pool, name, null)) ?? createLocalUser(deps, name, secureRndstr(20));
}

/** Runs the seed; idempotent for named fixtures, additive for bulk notes and files. */
export async function seed(deps: Deps, opts: SeedOptions): Promise<Record<string, unknown>> {
  const { pool } = deps;
  const { user: root, password: createdRootPassword } = await rootUser(deps);
  const users: UserRow[] = [];
  for (let i = 1; i <= opts.users; i++) users.push(await ensureUser(deps, `user${i}`));
  const suspended = await ensureUser(deps, 'suspended_user');
  await pool.query(`UPDATE "user" SET "isSuspended" = true, "name" = '凍結されたユーザー' WHERE "id" = $1`, [suspended.id]);
  await moderationLog(deps, root, 'suspend', { userId: suspended.id, userUsername: suspended.username, userHost: null });
  const moderator = await ensureUser(deps, 'moderator');
  await pool.query(`UPDATE "user" SET "isModerator" = true WHERE "id" = $1`, [moderator.id]);

  for (const [host, software] of [
    ['mastodon.example', 'mastodon'],
    ['remote.example', 'misskey'],
    ['spam.example', 'misskey'],
  ] as const) {
    await pool.query(
      `INSERT INTO "instance" ("id", "firstRetrievedAt", "host", "usersCount", "softwareName", "softwareVersion") VALUES ($1, now(), $2, 1, $3, '4.3.0') ON CONFLICT ("host") DO NOTHING`,
      [genId(deps.cfg.id), host, software],
    );
    await pool.query(
      `INSERT INTO "user" ("id", "createdAt", "username", "usernameLower", "host", "name") VALUES ($1, now(), 'alice', 'alice', $2, $3) ON CONFLICT DO NOTHING`,
      [genId(deps.cfg.id), host, `Alice@${host}`],
    );
  }

  const authors = [root, ...users];
  let noteCount = 0;
  const batch = 500;
  for (let start = 0; start < opts.notes; start += batch) {
    const n = Math.min(batch, opts.notes - start);
    const ids: string[] = [],
      dates: Date[] = [],
      userIds: string[] = [],
      texts: string[] = [];
    for (let i = 0; i < n; i++) {
      const at = new Date(Date.now() - (opts.notes - start - i) * 60_000);
      ids.push(genId(deps.cfg.id, at.getTime()));
      dates.push(at);
      userIds.push(authors[(start + i) % authors.length]!.id);
      texts.push(`${TEXTS[(start + i) % TEXTS.length]} (${start + i + 1})`);
    }
    await pool.query(
      `INSERT INTO "note" ("id", "createdAt", "userId", "text") SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::varchar[], $4::text[])`,
      [ids, dates, userIds, texts],
    );
    noteCount += n;
  }

  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const fileIds: string[] = [];
  for (let i = 0; i < opts.files; i++) {
    const data = Buffer.concat([allBytes, randomBytes(randomInt(1, 64 * 1024)), allBytes.reverse()]);
    const name = i === 0 ? '写真 2026-11-26.png' : `写真 2026-11-26 (${i + 1}).bin`;
    fileIds.push((await addDriveFile(deps, data, { userId: authors[i % authors.length]!.id, name, comment: 'シード：全バイト値' })).id);
  }

  const hasBlobcat = await pool.query(`SELECT 1 FROM "emoji" WHERE "name" = 'blobcat' AND "host" IS NULL`);
  if (!hasBlobcat.rowCount) {
    const png = await addDriveFile(deps, PNG_1X1, { userId: null, name: 'blobcat.png' });
    await insertEmoji(deps, png, { name: 'blobcat', category: 'ねこ', aliases: ['ねこ', 'cat'], license: 'CC0' });
  }

  for (const inbox of ['https://relay.example.com/inbox', 'https://relay2.example.org/inbox']) {
    await pool.query(`INSERT INTO "relay" ("id", "inbox", "status") VALUES ($1, $2, 'requesting') ON CONFLICT ("inbox") DO NOTHING`, [
      genId(deps.cfg.id),
      inbox,
    ]);
  }
  const meta = await getMeta(pool);
  const blocked = [...new Set([...meta.settings.blockedHosts, 'spam.example', '*.bad.example'])];
  await saveSettings(pool, {
    ...meta.settings,
    blockedHosts: blocked,
    silencedHosts: [...new Set([...(meta.settings.silencedHosts ?? []), 'noisy.example'])],
  });

  const limitedReadOnly = await createAppToken(deps, root.id, 'seed: read-only admin', [
    'read:account',
    'read:admin:meta',
    'read:admin:relays',
  ]);
  const limitedNoAdmin = await createAppToken(deps, root.id, 'seed: notes only', ['read:account', 'write:notes']);
  const counts = await pool.query<{ t: string; c: number }>(
    `SELECT 'users' AS t, count(*)::int AS c FROM "user" UNION ALL SELECT 'notes', count(*)::int FROM "note"
     UNION ALL SELECT 'driveFiles', count(*)::int FROM "drive_file" UNION ALL SELECT 'relays', count(*)::int FROM "relay"
     UNION ALL SELECT 'instances', count(*)::int FROM "instance" UNION ALL SELECT 'emojis', count(*)::int FROM "emoji"
     UNION ALL SELECT 'accessTokens', count(*)::int FROM "access_token"`,
  );
  return {
    double: 'misskey-api-double',
    misskeyVersion: deps.misskeyVersion,
    added: { users: opts.users, notes: noteCount, files: fileIds.length },
    counts: Object.fromEntries(counts.rows.map((r) => [r.t, r.c])),
    users: {
      root: { id: root.id, username: root.username, ...(createdRootPassword ? { password: createdRootPassword } : {}) },
      suspended: { id: suspended.id, username: suspended.username },
      moderator: { id: moderator.id, username: moderator.username },
    },
    tokens: {
      root: root.token,
      user1: users[0]?.token ?? null,
      suspended: suspended.token,
      moderator: moderator.token,
      limitedReadOnly: { token: limitedReadOnly, permission: ['read:account', 'read:admin:meta', 'read:admin:relays'] },
      limitedNotesOnly: { token: limitedNoAdmin, permission: ['read:account', 'write:notes'] },
    },
    blockedHosts: blocked,
  };
}
