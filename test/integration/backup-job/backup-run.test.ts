import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBackupService, renderBackupTimer } from '../../../src-main/services/backup-job/job-files';
import { APP_STACK_DIR } from '../../support/app-stack';
import { makeTempDir } from '../../support/temp-dir';
import { makeGpgHome } from '../gpg/gpg-home';
import { runInServer } from '../../lab/server';
import type { BackupRunView, InstallSummary } from '../../../src-main/shared/backup-job';
import { uniqueName } from '../lab/lab-ssh';
import {
  compose,
  DESKTOP_PASSPHRASE,
  desktopKeySecrets,
  mustOnA,
  onA,
  psql,
  runJob,
  scanServerForPrivateKeys,
  setUpJobLab,
  RUNNER,
  type JobLab,
} from './job-lab';

describe('the nightly backup job, installed by the app on lab server A', () => {
  let lab: JobLab;
  beforeAll(async () => {
    lab = await setUpJobLab({ bucket: uniqueName('ohjob') });
  }, 600_000);
  afterAll(async () => {
    await lab?.cleanup();
  });

  it('installs root-only files, the cron schedule (no systemd here) and pins the signing key generated on the server', async () => {
    const modes = await mustOnA(
      'stat -c "%a %U %n" /etc/ohitori /etc/ohitori/backup.json /etc/ohitori/signing-key.asc /etc/ohitori/recipients.asc /usr/local/lib/ohitori/ohitori-backup /var/lib/ohitori/backup /var/lib/ohitori/staging /etc/cron.d/ohitori-backup',
    );
    expect(modes.trim().split('\n')).toEqual([
      '700 root /etc/ohitori',
      '600 root /etc/ohitori/backup.json',
      '600 root /etc/ohitori/signing-key.asc',
      '644 root /etc/ohitori/recipients.asc',
      '755 root /usr/local/lib/ohitori/ohitori-backup',
      '700 root /var/lib/ohitori/backup',
      '700 root /var/lib/ohitori/staging',
      '644 root /etc/cron.d/ohitori-backup',
    ]);
    expect(await mustOnA(`bash -n ${RUNNER} && echo ok`)).toBe('ok\n');
    const pin = await lab.services.pins.current(lab.profileId);
    expect(pin?.serverId).toBe('a-ohitori-test');
    const serverPub = await mustOnA('cat /etc/ohitori/signing-key.pub.asc');
    expect(serverPub).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    // Re-installing keeps the signing key.
    const again = await runJob<InstallSummary>(lab.services, (ctx) => lab.services.backupJob.install(lab.profileId, ctx));
    expect(again.state).toBe('done');
    expect(again.result?.fingerprint).toBe(pin?.fingerprint);
    expect(again.result?.scheduler).toBe('cron');
  });

  it('the systemd service and timer pass `systemd-analyze verify` next to the installed runner', async () => {
    const dir = '/var/tmp/ohitori-units';
    await mustOnA(`rm -rf ${dir} && mkdir -p ${dir}`);
    await runInServer('a', ['sh', '-c', `cat >${dir}/ohitori-backup.service`], { input: renderBackupService() });
    await runInServer('a', ['sh', '-c', `cat >${dir}/ohitori-backup.timer`], { input: renderBackupTimer() });
    const r = await onA(`systemd-analyze verify ${dir}/ohitori-backup.timer ${dir}/ohitori-backup.service`);
    expect(r.code, r.err).toBe(0);
    expect(r.err.trim()).toBe('');
    // Negative control: a unit naming a runner that is not there is refused.
    await runInServer('a', [
      'sh',
      '-c',
      `sed 's#${RUNNER}#/nonexistent/ohitori-backup#' ${dir}/ohitori-backup.service >${dir}/broken.service`,
    ]);
    const bad = await onA(`systemd-analyze verify ${dir}/broken.service`);
    expect(bad.code).not.toBe(0);
    await mustOnA(`rm -rf ${dir}`);
  });

  it('the cron line runs the job as cron would: 03:00 daily as root, a random delay below 30 minutes, trigger "cron"', async () => {
    const line = (await mustOnA('cat /etc/cron.d/ohitori-backup')).split('\n').find((l) => /^\d/.test(l))!;
    const fields = line.split(/\s+/);
    expect(fields.slice(0, 6)).toEqual(['0', '3', '*', '*', '*', 'root']);
    // cron turns an unescaped % into a newline; the line escapes it, and cron hands the command to SHELL=/bin/bash.
    const command = fields.slice(6).join(' ').replace(/\\%/g, '%');
    expect(command).not.toMatch(/(^|[^\\])%.*%/);
    const r = await onA(`sleep() { echo "slept $1" >&2; }; export -f sleep; bash -c ${JSON.stringify(command)}`, 300_000);
    expect(r.code, r.err).toBe(0);
    const slept = Number(/slept (\d+)/.exec(r.err)?.[1]);
    expect(slept).toBeGreaterThanOrEqual(0);
    expect(slept).toBeLessThan(1800);
    expect(JSON.parse(await mustOnA('cat /var/lib/ohitori/backup/state.json'))).toMatchObject({ result: 'ok', trigger: 'cron' });
  }, 300_000);

  it('"Back up now" stores parts and the manifest, with live stages and a recorded run', async () => {
    const job = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    expect(job.state, JSON.stringify(job.error) + job.log.join('\n')).toBe('done');
    expect(job.result).toMatchObject({ result: 'ok', stage: 'done', trigger: 'manual' });
    const keys = await lab.keys();
    const id = job.result!.backupId!;
    expect(keys).toContain(`ohitori/a-ohitori-test/${id}/manifest.json.pgp`);
    expect(keys).toContain(`ohitori/a-ohitori-test/${id}/part-00000.pgp`);
    expect(keys).toContain('ohitori/a-ohitori-test/signing-key.asc');
    expect(await lab.uploads()).toBe(0);
    expect((await onA('find /var/lib/ohitori/staging -mindepth 1 | wc -l')).out.trim()).toBe('0');
  });

  it('stock gpg with the recovery key and the documented commands restore a database identical to the live one and the same files', async () => {
    // State worth restoring: rows with Japanese text, and media files with binary content and non-ASCII names.
    await mustOnA(
      psql(
        "create table if not exists ohitori_probe(id int primary key, body text, data bytea); insert into ohitori_probe select g, 'ノート ' || g || ' 🐱', decode(md5(g::text), 'hex') from generate_series(1, 5000) g on conflict do nothing",
      ),
    );
    await mustOnA(
      [
        `mkdir -p "${APP_STACK_DIR}/files/2026/猫"`,
        `head -c 700000 /dev/urandom >"${APP_STACK_DIR}/files/2026/猫/写真 1.webp"`,
        `head -c 3000 /dev/urandom >"${APP_STACK_DIR}/files/thumbnail-é.png"`,
        `: >"${APP_STACK_DIR}/files/empty"`,
        `chown -R 991:991 "${APP_STACK_DIR}/files"`,
      ].join(' && '),
    );
    const job = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    expect(job.state, JSON.stringify(job.error) + job.log.join('\n')).toBe('done');
    const id = job.result!.backupId!;
    expect(job.result!.archiveBytes).toBeGreaterThan(700_000);

    const t = await makeTempDir();
    const gpg = await makeGpgHome(DESKTOP_PASSPHRASE);
    try {
      const dir = join(t.dir, id);
      await mkdir(dir);
      for (const key of (await lab.keys()).filter((k) => k.includes(`/${id}/`))) {
        const body = await (await lab.s3.send(new GetObjectCommand({ Bucket: lab.bucket, Key: key }))).Body!.transformToByteArray();
        await writeFile(join(dir, key.split('/').pop()!), body);
      }
      await lab.services.keys.exportRecovery({ passphrase: DESKTOP_PASSPHRASE, path: join(dir, 'ohitori-recovery-key.asc') });
      // The server's public key as the job keeps it beside its backups (what a user without the app would download).
      const signing = await (
        await lab.s3.send(new GetObjectCommand({ Bucket: lab.bucket, Key: 'ohitori/a-ohitori-test/signing-key.asc' }))
      ).Body!.transformToString();
      expect(signing).toContain('BEGIN PGP PUBLIC KEY BLOCK');
      await writeFile(join(dir, 'signing-key.asc'), signing);
      const doc = await readFile(new URL('../../../docs/backup-format.md', import.meta.url), 'utf8');
      const commands = /<!-- recovery-commands:start -->\s*```sh\n([\s\S]*?)```/.exec(doc)![1]!;
      const { stderr } = await gpg.sh(commands, dir);
      expect(stderr).toMatch(/Good signature from "Ohitori backup signing key \(a-ohitori-test\)"/);

      // Files: every one byte for byte.
      const listed = (await mustOnA(`cd "${APP_STACK_DIR}/files" && find . -type f -print0 | xargs -0 sha256sum | sort -k2`))
        .trim()
        .split('\n');
      const restored: string[] = [];
      const walk = async (d: string, rel: string): Promise<void> => {
        for (const e of await readdir(d, { withFileTypes: true })) {
          if (e.isDirectory()) await walk(join(d, e.name), `${rel}/${e.name}`);
          else
            restored.push(
              `${createHash('sha256')
                .update(await readFile(join(d, e.name)))
                .digest('hex')}  ${rel}/${e.name}`,
            );
        }
      };
      await walk(join(dir, 'restore', 'files'), '.');
      expect(restored.sort((a, b) => a.slice(66).localeCompare(b.slice(66)))).toEqual(
        listed.sort((a, b) => a.slice(66).localeCompare(b.slice(66))),
      );
      expect(listed.length).toBeGreaterThanOrEqual(3);

      // Database: the restored dump loaded into a scratch database equals the live one, table by table.
      const dump = await readFile(join(dir, 'restore', 'db', 'misskey.dump'));
      await mustOnA(`${psql('drop database if exists restored_check')} && ${psql('create database restored_check')}`);
      const r = await Promise.resolve().then(() =>
        runInServer('a', ['bash', '-c', compose('exec -T db pg_restore -U misskey -d restored_check --no-owner --exit-on-error')], {
          input: dump,
          timeoutMs: 120_000,
        }),
      );
      expect(r.code, r.stderr.toString()).toBe(0);
      const tables = (await mustOnA(psql("select tablename from pg_tables where schemaname = 'public' order by 1"))).trim().split('\n');
      expect(tables).toContain('ohitori_probe');
      const digest = async (db: string) => {
        const out: Record<string, string> = {};
        for (const tbl of tables)
          out[tbl] = (
            await mustOnA(
              psql(`select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from "${tbl}" t`, db),
            )
          ).trim();
        return out;
      };
      expect(await digest('restored_check')).toEqual(await digest('misskey'));
      await mustOnA(psql('drop database restored_check'));
    } finally {
      await gpg.close();
      await t.cleanup();
    }
  }, 300_000);

  it('no private-key material of the desktop is on server A: not on disk, not in process arguments or environments during a run', async () => {
    const entry = (await lab.services.keys.keyring.list()).find((k) => k.role === 'desktop')!;
    const { secrets } = await desktopKeySecrets(lab);
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    const needles = [
      ...secrets.map((b) => b.toString('hex')),
      ...secrets.map((b) => b.toString('base64')),
      entry.info.fingerprint + ':secret',
    ];

    // During a run: sample args and environments of every process on the server.
    let done = false;
    const samples: string[] = [];
    const sampler = (async () => {
      while (!done) samples.push((await onA('ps -eo args; cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n"')).out);
    })();
    const job = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    done = true;
    await sampler;
    expect(job.state).toBe('done');
    expect(samples.length).toBeGreaterThan(2);
    expect(samples.some((s) => s.includes('backup-job.mjs run'))).toBe(true);
    for (const s of samples) {
      expect(s).not.toContain('PRIVATE KEY BLOCK');
      for (const n of needles) expect(s.includes(n)).toBe(false);
    }
    // On disk: besides the canaries the scan plants, the only private key on the server is its own signing key.
    expect(await scanServerForPrivateKeys(lab)).toEqual(['/etc/ohitori/signing-key.asc']);
  }, 300_000);
});
