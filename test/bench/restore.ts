/**
 * Restore bench (issue 8): the desktop half of our restore — download every part from the lab's
 * s3rver, verify and decrypt it into private files, unpack, tar the files, upload dump and files to
 * lab server A over SFTP — vs the anchor pipeline a user would run by hand on the same backup:
 *
 *   curl (SigV4) every part → gpg --decrypt each → cat | zstd -d | tar -x → tar -cf files.tar → scp dump + files.tar
 *
 *   npm run bench -- restore [--small MiB] [--large MiB] [--runs n]
 *
 * Needs the lab. The backups are made by the real nightly job on lab A over a database filled to
 * about the given sizes (defaults 256 MiB and 1 GiB, the sizes docs/performance.md measures at). Ratio = anchor time / our time.
 * Each of our runs is a fresh desktop process (this file with `--child`): it opens the app's
 * services on the same data directory, unlocks the vault and the key (not timed: the wizard asks
 * for the passphrase before its download step), then runs the restore up to the swap (timed).
 * Peak RSS is that process's maximum resident set over its whole life; the anchor's (gpg's, curl's)
 * is not reported.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServices } from '../../src-main/services/app-services';
import type { BackupRunView } from '../../src-main/shared/backup-job';
import type { RestoreResult } from '../../src-main/shared/restore';
import { DESKTOP_PASSPHRASE, JOB_LAB_VAULT, runJob, setUpJobLab, fillBenchTable } from '../integration/backup-job/job-lab';
import { benchLine, median, runProc } from './bench-util';

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};

function sh(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('bash', ['-c', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += String(d)));
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`anchor failed (${code}): ${err.slice(-1500)}`))));
  });
}

/** One restore (up to the swap) in this fresh process; prints its time and the process's peak RSS. */
async function child(dataDir: string, profileId: string, backupId: string): Promise<void> {
  const services = await createServices({ dataDir, mode: 'browser', version: 'bench', broadcast: () => {} });
  await services.vault.unlock(JOB_LAB_VAULT);
  await services.keys.keyring.unlock(DESKTOP_PASSPHRASE);
  const t = performance.now();
  const r = await runJob<RestoreResult>(services, (ctx) =>
    services.restore.run({ sourceProfileId: profileId, targetProfileId: profileId, backupId, stopAfterUpload: true }, ctx),
  );
  const ms = performance.now() - t;
  if (r.state !== 'done') throw new Error(`restore failed: ${JSON.stringify(r.error)}`);
  console.log(JSON.stringify({ ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function ours(dataDir: string, profileId: string, backupId: string): Promise<{ ms: number; maxRssMiB: number }> {
  const r = await runProc(process.execPath, [process.argv[1]!, '--child', dataDir, profileId, backupId]);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ms: number; maxRssMiB: number };
}

async function main(): Promise<void> {
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3]!);
  const smallMiB = opt('small', 256);
  const largeMiB = opt('large', 1024);
  const runs = opt('runs', 3);
  const bucket = `ohbenchr-${Date.now().toString(36)}`;
  console.log(`restore bench: database ≈ ${smallMiB} and ${largeMiB} MiB, ${runs} alternating runs; lab server A, s3rver`);
  const lab = await setUpJobLab({ bucket, keep: 1000 });
  const work = await mkdtemp(join(tmpdir(), 'ohitori-bench-restore-'));
  try {
    const gpgHome = join(work, 'gnupg');
    await sh(`mkdir -m 700 ${gpgHome}`, {});
    await lab.services.keys.exportRecovery({ passphrase: DESKTOP_PASSPHRASE, path: join(work, 'recovery.asc') });
    await writeFile(join(work, 'pass'), DESKTOP_PASSPHRASE, { mode: 0o600 });
    await sh(`gpg --homedir ${gpgHome} --batch --pinentry-mode loopback --passphrase-file ${work}/pass --import ${work}/recovery.asc`, {});
    await writeFile(join(work, 'signing.asc'), (await lab.services.pins.current(lab.profileId))!.armoredPublicKey);
    await sh(`gpg --homedir ${gpgHome} --batch --import ${work}/signing.asc`, {});
    const s3 = lab.env.s3;
    const a = lab.env.servers.a;
    const ssh = `-i ${lab.env.admin.keyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;

    const rows: { label: string; ours: number; anchor: number; ratio: number; mib: number }[] = [];
    const peaks: Record<string, number> = {};
    for (const [label, size] of [
      ['small', smallMiB],
      ['large', largeMiB],
    ] as const) {
      await fillBenchTable(size);
      const job = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
      if (job.state !== 'done') throw new Error(`backup failed: ${JSON.stringify(job.error)}`);
      const backupId = job.result!.backupId!;
      const folder = `ohitori/a-ohitori-test/${backupId}/`;
      const parts = (await lab.keys()).filter((k) => k.startsWith(folder) && /part-\d{5}\.pgp$/.test(k));
      const mib = (job.result!.uploadedBytes ?? 0) / 1024 / 1024;
      const anchor = [
        'set -eo pipefail',
        `d=$(mktemp -d ${work}/anchor.XXXX)`,
        ...parts.map(
          (k) =>
            `curl -sSf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 aws:amz:${s3.region}:s3 --user ${s3.accessKeyId}:${s3.secretAccessKey} -o "$d/${k.split('/').pop()}" ${s3.endpoint}/${bucket}/${k}`,
        ),
        `for p in "$d"/part-*.pgp; do gpg --homedir ${gpgHome} --batch -q --pinentry-mode loopback --passphrase-file ${work}/pass --output "\${p%.pgp}.zst" --decrypt "$p" 2>>"$d/gpg.log" || { cat "$d/gpg.log" >&2; exit 1; }; rm -f "$p"; done`,
        'mkdir "$d/out" && cat "$d"/part-*.zst | zstd -d -q | tar -x -C "$d/out" && rm -f "$d"/part-*.zst',
        'mkdir -p "$d/out/files" && tar -cf "$d/files.tar" -C "$d/out/files" .',
        `ssh ${ssh} ${lab.env.admin.user}@${a.ip} 'mkdir -p .anchor-restore'`,
        `scp -q ${ssh} "$d"/out/db/*.dump "$d/files.tar" ${lab.env.admin.user}@${a.ip}:.anchor-restore/`,
        `ssh ${ssh} ${lab.env.admin.user}@${a.ip} 'rm -rf .anchor-restore'`,
        'rm -rf "$d"',
      ].join('\n');
      for (let i = 0; i < runs; i++) {
        const o = await ours(lab.dataDir, lab.profileId, backupId);
        peaks[label] = Math.max(peaks[label] ?? 0, o.maxRssMiB);
        const t = performance.now();
        await sh(anchor, {});
        const anc = performance.now() - t;
        rows.push({ label, ours: o.ms, anchor: anc, ratio: anc / o.ms, mib });
        console.log(
          `${label} run ${i + 1}: backup ${mib.toFixed(0)} MiB — ours ${(o.ms / 1000).toFixed(2)} s (peak ${o.maxRssMiB.toFixed(0)} MiB), anchor ${(anc / 1000).toFixed(2)} s`,
        );
      }
    }
    console.log('\n| size | backup MiB | ours s (median) | anchor s (median) | anchor/ours (median of pairs) | desktop peak RSS MiB |');
    console.log('|---|---|---|---|---|---|');
    for (const label of ['small', 'large']) {
      const r = rows.filter((x) => x.label === label);
      console.log(
        `| ${label} | ${r[0]!.mib.toFixed(0)} | ${(median(r.map((x) => x.ours)) / 1000).toFixed(2)} | ${(median(r.map((x) => x.anchor)) / 1000).toFixed(2)} | ${median(r.map((x) => x.ratio)).toFixed(3)} | ${peaks[label]!.toFixed(0)} |`,
      );
    }
    console.log('anchor: curl every part | gpg --decrypt | zstd -d | tar -x; tar -cf files.tar; scp dump + files.tar');
    benchLine('restore_vs_anchor', median(rows.filter((x) => x.label === 'large').map((x) => x.ratio)), 'x');
    benchLine('restore_vs_anchor_small', median(rows.filter((x) => x.label === 'small').map((x) => x.ratio)), 'x');
    benchLine('peak_rss_small', Math.round(peaks.small!), 'MiB');
    benchLine('peak_rss_large', Math.round(peaks.large!), 'MiB');
  } finally {
    await rm(work, { recursive: true, force: true });
    await lab.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
