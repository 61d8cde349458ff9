/**
 * Backup bench (issue 7): the nightly job as installed by the app on lab server A (dump, full read
 * check, tar → zstd → signed+encrypted parts → multipart upload to the lab's s3rver, manifest) vs
 * the shell pipeline the guide's users would write, run on the same server on the same database:
 *
 *   pg_dump -Fc | zstd -3 | gpg --encrypt (--compress-algo none) > file; curl --aws-sigv4 -T file (one PUT)
 *
 *   npm run bench -- backup [--small MiB] [--large MiB] [--runs n]
 *
 * Needs the lab (`npm run lab:up`). The database is filled with generated rows (hex text, about
 * half compressible) to roughly the given table sizes (defaults 256 MiB and 1 GiB, as docs/performance.md measures); runs alternate
 * A and B (median of per-pair ratios). Ratio = anchor time / our time (above 1: faster than the
 * pipeline). Peak RSS is the job process's own (process.resourceUsage), at both sizes. Our job also
 * signs every part and the manifest and reads the whole dump back before uploading; the anchor does
 * neither.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { APP_STACK_DIR } from '../support/app-stack';
import { compose, mustOnA, onA, RUNNER, setUpJobLab, fillBenchTable } from '../integration/backup-job/job-lab';
import { benchLine, median } from './bench-util';

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};

async function main(): Promise<void> {
  const smallMiB = opt('small', 256);
  const largeMiB = opt('large', 1024);
  const runs = opt('runs', 3);
  const bucket = `ohbench-${Date.now().toString(36)}`;
  console.log(`backup bench: database ≈ ${smallMiB} and ${largeMiB} MiB, ${runs} alternating runs; lab server A, s3rver`);
  const lab = await setUpJobLab({ bucket, keep: 1000 });
  try {
    await lab.s3.send(new CreateBucketCommand({ Bucket: `${bucket}-anchor` }));
    const fp = (await lab.services.keys.keyring.list())[0]!.info.fingerprint;
    const home = '/var/tmp/ohitori-bench-gnupg';
    await mustOnA(
      `rm -rf ${home} && mkdir -m 700 ${home} && gpg --homedir ${home} --batch --import /etc/ohitori/recipients.asc 2>/dev/null`,
    );
    const s3 = lab.env.s3;
    const anchor = [
      'set -o pipefail',
      `${compose('exec -T db pg_dump -Fc -U misskey misskey')} </dev/null | zstd -3 -q -c | gpg --homedir ${home} --batch --yes --trust-model always --compress-algo none -r ${fp} -e -o /var/tmp/anchor.pgp`,
      `curl -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --aws-sigv4 aws:amz:${s3.region}:s3 --user ${s3.accessKeyId}:${s3.secretAccessKey} -T /var/tmp/anchor.pgp ${s3.endpoint}/${bucket}-anchor/anchor-$RANDOM.pgp`,
      'rm -f /var/tmp/anchor.pgp',
    ].join(' && ');

    const rows: { label: string; dbMiB: number; ours: number; shell: number; ratio: number; peakMiB: number }[] = [];
    const peaks: Record<string, number> = {};
    const stageTimes: { label: string; stages: Record<string, number> }[] = [];
    for (const [label, size] of [
      ['small', smallMiB],
      ['large', largeMiB],
    ] as const) {
      const dbMiB = await fillBenchTable(size);
      for (let i = 0; i < runs; i++) {
        let t = performance.now();
        // Each output line stamped on arrival, so the stages' own durations can be shown.
        const r = await onA(
          `set -o pipefail; ${RUNNER} run manual | while IFS= read -r l; do printf '%s %s\\n' "$EPOCHREALTIME" "$l"; done`,
          1_800_000,
        );
        const ours = performance.now() - t;
        if (r.code !== 0) throw new Error(`the job failed: ${r.out.slice(-2000)}`);
        stageTimes.push({ label, stages: stageDurations(r.out) });
        const result = JSON.parse(await mustOnA('cat /var/lib/ohitori/backup/job-result.json')) as { peakRssKiB?: number };
        t = performance.now();
        await mustOnA(anchor, 1_800_000);
        const shell = performance.now() - t;
        const peakMiB = (result.peakRssKiB ?? NaN) / 1024;
        peaks[label] = Math.max(peaks[label] ?? 0, peakMiB);
        rows.push({ label, dbMiB, ours, shell, ratio: shell / ours, peakMiB });
        console.log(
          `${label} run ${i + 1}: db ${dbMiB.toFixed(0)} MiB — job ${(ours / 1000).toFixed(2)} s (peak ${peakMiB.toFixed(0)} MiB), shell ${(shell / 1000).toFixed(2)} s`,
        );
      }
    }
    console.log('\n| size | db MiB | job s (median) | shell s (median) | shell/job (median of pairs) | job peak RSS MiB |');
    console.log('|---|---|---|---|---|---|');
    for (const label of ['small', 'large']) {
      const r = rows.filter((x) => x.label === label);
      console.log(
        `| ${label} | ${r[0]!.dbMiB.toFixed(0)} | ${(median(r.map((x) => x.ours)) / 1000).toFixed(2)} | ${(median(r.map((x) => x.shell)) / 1000).toFixed(2)} | ${median(r.map((x) => x.ratio)).toFixed(3)} | ${peaks[label]!.toFixed(0)} |`,
      );
    }
    const names = [...new Set(stageTimes.flatMap((x) => Object.keys(x.stages)))];
    console.log(`\n| size | ${names.join(' | ')} |  (our job's stages, median seconds)`);
    console.log(`|---|${names.map(() => '---').join('|')}|`);
    for (const label of ['small', 'large']) {
      const r = stageTimes.filter((x) => x.label === label);
      console.log(`| ${label} | ${names.map((n) => median(r.map((x) => x.stages[n] ?? 0)).toFixed(2)).join(' | ')} |`);
    }
    console.log(
      `anchor: pg_dump -Fc | zstd -3 | gpg -e --compress-algo none > file; curl --aws-sigv4 -T (single PUT) — on ${APP_STACK_DIR}'s db`,
    );
    benchLine('backup_vs_shell', median(rows.filter((x) => x.label === 'large').map((x) => x.ratio)), 'x');
    benchLine('backup_vs_shell_small', median(rows.filter((x) => x.label === 'small').map((x) => x.ratio)), 'x');
    benchLine('peak_rss_small', Math.round(peaks.small!), 'MiB');
    benchLine('peak_rss_large', Math.round(peaks.large!), 'MiB');
  } finally {
    await onA('rm -rf /var/tmp/ohitori-bench-gnupg /var/tmp/anchor.pgp');
    await lab.cleanup();
  }
}

/** Seconds from each `@stage` line to the next one (the last stage ends at `@finished`). */
function stageDurations(out: string): Record<string, number> {
  const marks: { name: string; at: number }[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d+\.\d+) @(stage (\S+)|finished)/.exec(line);
    if (m) marks.push({ name: m[3] ?? 'end', at: Number(m[1]) });
  }
  const d: Record<string, number> = {};
  for (let i = 0; i + 1 < marks.length; i++) d[marks[i]!.name] = marks[i + 1]!.at - marks[i]!.at;
  return d;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
