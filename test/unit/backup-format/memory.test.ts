import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { generateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { MiB, writeTestData } from '../../bench/bench-util';

/**
 * Flat memory (issue 4): a full backup (tar → zstd → signed+encrypted parts) and restore of
 * generated data, each in a child process (the crypto bench's child modes), at two sizes. Peak RSS
 * must stay under 256 MiB and not grow with the input. The multi-GiB version is `npm run bench -- crypto`.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const BOUND_MIB = 256;
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ohitori-mem-'));
  await build({
    entryPoints: {
      crypto: join(root, 'test/bench/crypto.ts'),
      'part-worker': join(root, 'src-main/services/backup-format/part-worker.ts'),
    },
    outdir: join(dir, 'bundle'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  bundle = join(dir, 'bundle', 'crypto.mjs');
  const d = await generateKey({ userIDs: [{ name: 'Mem test' }], format: 'object' });
  const s = await generateServerSigningKey({ serverId: 'mem' });
  await writeFile(join(dir, 'desktop.asc'), d.privateKey.armor());
  await writeFile(join(dir, 'signing.asc'), s.armoredPrivate);
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

async function child(mode: string, a: string, b: string): Promise<number> {
  const { stdout } = await run(process.execPath, [bundle, '--child', mode, dir, a, b, '1'], { maxBuffer: 1 << 20 });
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { maxRssMiB: number }).maxRssMiB;
}

async function roundTrip(sizeMiB: number): Promise<number> {
  const src = join(dir, `src-${sizeMiB}`);
  const out = join(dir, `out-${sizeMiB}`);
  const back = join(dir, `back-${sizeMiB}`);
  await Promise.all([mkdir(src), mkdir(out), mkdir(back)]);
  await writeTestData(join(src, 'blob.bin'), sizeMiB * MiB, 3);
  const b = await child('backup', src, out);
  const r = await child('restore', out, back);
  await run('cmp', [join(src, 'blob.bin'), join(back, 'data', 'blob.bin')]);
  await Promise.all([src, out, back].map((p) => rm(p, { recursive: true })));
  return Math.max(b, r);
}

describe('memory stays flat', () => {
  it('peak RSS of backup and restore is under 256 MiB at 64 and 256 MiB of input, and does not grow', async () => {
    const small = await roundTrip(64);
    const large = await roundTrip(256);
    console.log(`peak RSS: 64 MiB → ${small.toFixed(0)} MiB, 256 MiB → ${large.toFixed(0)} MiB`);
    expect(small).toBeLessThan(BOUND_MIB);
    expect(large).toBeLessThan(BOUND_MIB);
    expect(large).toBeLessThan(small * 1.25 + 16);
  }, 180_000);
});
