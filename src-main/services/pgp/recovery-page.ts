import { formatFingerprint } from './key-info';

/** What goes on the printed recovery page. */
export interface RecoveryPageInput {
  readonly fingerprint: string;
  readonly userIds: readonly string[];
  readonly createdAt: string;
  /** Other recipients every backup is also encrypted to. */
  readonly otherRecipients?: readonly { fingerprint: string; label: string }[];
  /** Pinned server signing keys: gpg needs their public key (`signing-key.asc`) to check parts. */
  readonly signingKeys?: readonly { serverId: string; fingerprint: string }[];
  /** e.g. `s3://bucket/prefix/server-id/` — where the backups live. */
  readonly storageHint?: string;
}

type Lang = 'ja' | 'en';

const T = {
  en: {
    title: 'Ohitori backup key — recovery sheet',
    intro:
      'Keep this page with the exported key file (ohitori-recovery-key.asc). Together with the key passphrase it is enough to restore a backup with standard tools, without Ohitori.',
    fp: 'Key fingerprint',
    uid: 'User ID',
    created: 'Created',
    others: 'Backups are also encrypted to',
    signers: 'Backups are signed by (signing-key.asc next to the backups)',
    where: 'Backups are stored at',
    steps: 'Restore with GnuPG 2.2+, zstd and tar',
    s1: 'Import the key and the server signing key (asks for the key passphrase):',
    s2: 'Check the fingerprint matches the one printed above:',
    s3: 'Download one backup folder (all part-*.pgp files and manifest.json.pgp), then check the manifest signature and read it:',
    s4: 'Decrypt every part in order, decompress, unpack:',
    s5: 'The folder now holds the database dump, the media files and the stack configuration. See docs/backup-format.md for restoring them.',
  },
  ja: {
    title: 'Ohitori バックアップ鍵 — 復旧用シート',
    intro:
      'このページはエクスポートした鍵ファイル (ohitori-recovery-key.asc) と一緒に保管してください。鍵のパスフレーズがあれば、Ohitori がなくても標準のツールでバックアップを復元できます。',
    fp: '鍵のフィンガープリント',
    uid: 'ユーザー ID',
    created: '作成日',
    others: 'バックアップは次の鍵にも暗号化されています',
    signers: 'バックアップの署名鍵（バックアップと同じ場所の signing-key.asc）',
    where: 'バックアップの保存先',
    steps: 'GnuPG 2.2 以降・zstd・tar での復元手順',
    s1: '鍵とサーバーの署名鍵を取り込みます（鍵のパスフレーズを聞かれます）:',
    s2: 'フィンガープリントが上に印刷したものと同じか確かめます:',
    s3: 'バックアップのフォルダを一つダウンロードし（part-*.pgp すべてと manifest.json.pgp）、マニフェストの署名を確かめて中身を読みます:',
    s4: 'すべてのパートを順番に復号し、展開します:',
    s5: 'フォルダにデータベースのダンプ、メディアファイル、スタックの設定が出てきます。それぞれの戻し方は docs/backup-format.md を見てください。',
  },
} as const;

const CMD = {
  import: 'gpg --import ohitori-recovery-key.asc signing-key.asc',
  fingerprint: 'gpg --fingerprint',
  manifest: 'gpg --output manifest.json --decrypt manifest.json.pgp',
  // same as docs/backup-format.md "Manual recovery"; the gpg integration test runs that block
  restore: [
    'set -e',
    'for p in part-*.pgp; do gpg --batch --output "${p%.pgp}.zst" --decrypt "$p"; done',
    'mkdir -p restore && cat part-*.zst | zstd -d | tar -x -C restore',
  ],
};

/** Plain-text recovery sheet in both languages (ja first, then en). */
export function recoveryPageText(input: RecoveryPageInput, langs: readonly Lang[] = ['ja', 'en']): string {
  return langs.map((l) => section(input, l)).join('\n\n' + '-'.repeat(72) + '\n\n') + '\n';
}

function section(input: RecoveryPageInput, lang: Lang): string {
  const t = T[lang];
  const lines = [
    t.title,
    '',
    t.intro,
    '',
    `${t.fp}: ${formatFingerprint(input.fingerprint)}`,
    `${t.uid}: ${input.userIds.join(', ')}`,
    `${t.created}: ${input.createdAt}`,
  ];
  if (input.otherRecipients?.length) {
    lines.push(`${t.others}:`);
    for (const r of input.otherRecipients) lines.push(`  ${r.label}: ${formatFingerprint(r.fingerprint)}`);
  }
  if (input.signingKeys?.length) {
    lines.push(`${t.signers}:`);
    for (const k of input.signingKeys) lines.push(`  ${k.serverId}: ${formatFingerprint(k.fingerprint)}`);
  }
  if (input.storageHint) lines.push(`${t.where}: ${input.storageHint}`);
  lines.push('', t.steps, '', `1. ${t.s1}`, `   ${CMD.import}`, `2. ${t.s2}`, `   ${CMD.fingerprint}`);
  lines.push(`3. ${t.s3}`, `   ${CMD.manifest}`, `4. ${t.s4}`, ...CMD.restore.map((c) => `   ${c}`), `5. ${t.s5}`);
  return lines.join('\n');
}

/** Self-contained printable HTML (no external resources, no script) for the same content. */
export function recoveryPageHtml(input: RecoveryPageInput): string {
  const body = (['ja', 'en'] as const)
    .map((l) => `<section lang="${l}"><pre>${escapeHtml(section(input, l))}</pre></section>`)
    .join('\n<hr>\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(T.en.title)}</title><style>body{font:12pt sans-serif;margin:2cm}pre{white-space:pre-wrap;font:11pt monospace}section{page-break-after:always}</style></head><body>\n${body}\n</body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
