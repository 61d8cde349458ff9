import { zipSync } from 'fflate';

/** A 1×1 PNG. */
export const PNG_1X1 = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf00000301010018dd8db40000000049454e44ae426082',
  'hex',
);

/** A zip in Misskey's emoji export format with one emoji per name. */
export function emojiZip(names: readonly string[], category = 'テスト'): Buffer {
  const files: Record<string, Uint8Array> = {
    'meta.json': Buffer.from(
      JSON.stringify({
        emojis: names.map((name) => ({ downloaded: true, fileName: `${name}.png`, emoji: { name, category, aliases: [] } })),
      }),
    ),
  };
  for (const n of names) files[`${n}.png`] = PNG_1X1;
  return Buffer.from(zipSync(files));
}

/** 1,000 block-list lines: 600 new hosts, 200 duplicates, 150 invalid lines, 50 already blocked (50 distinct hosts given). */
export function thousandLineBlockList(prefix: string, alreadyBlocked: readonly string[]): string {
  const lines: string[] = ['# block list'];
  for (let i = 0; i < 600; i++) lines.push(`${prefix}${i}.example`);
  for (let i = 0; i < 200; i++) lines.push(i % 2 ? `${prefix.toUpperCase()}${i}.EXAMPLE` : ` ${prefix}${i}.example. `);
  for (let i = 0; i < 150; i++) lines.push(i % 2 ? `not a host ${i}` : `bad_${i}.example`);
  for (let i = 0; i < 50; i++) lines.push(alreadyBlocked[i]!.toUpperCase());
  return lines.join('\n');
}
