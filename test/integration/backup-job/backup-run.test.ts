import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupRunView, InstallSummary } from '../../../src-main/shared/backup-job';
import { uniqueName } from '../lab/lab-ssh';
import { mustOnA, onA, runJob, setUpJobLab, RUNNER, type JobLab } from './job-lab';

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

  it('"Back up now" stores parts and the manifest, with live stages and a recorded run', async () => {
    const job = await runJob<BackupRunView>(lab.services, (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    expect(job.state, JSON.stringify(job.error) + job.log.join('\n')).toBe('done');
    expect(job.result).toMatchObject({ result: 'ok', stage: 'done', trigger: 'manual' });
    const keys = await lab.keys();
    const id = job.result!.backupId!;
    expect(keys).toContain(`ohitori/a-ohitori-test/${id}/manifest.json.pgp`);
    expect(keys).toContain(`ohitori/a-ohitori-test/${id}/part-00000.pgp`);
    expect(await lab.uploads()).toBe(0);
    expect((await onA('find /var/lib/ohitori/staging -mindepth 1 | wc -l')).out.trim()).toBe('0');
  });
});
