/**
 * The job's failure promises on lab server A (reliability G14, G15, G19, G20; issue #7): SIGKILL at
 * random points, a truncated or changed dump, storage unreachable or cut mid-upload (fault proxy),
 * two runs at once, retention with forged manifests. The runner is started as root on the server,
 * as the timer would.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { InlinePartRunner } from '../../../src-main/services/backup-format/part-runner';
import { generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { startFaultProxy, type FaultProxy } from '../../lab/fault-proxy';
import { APP_STACK_DIR } from '../../support/app-stack';
import { uniqueName } from '../lab/lab-ssh';
import { compose, mustOnA, onA, RUNNER, setUpJobLab, type JobLab } from './job-lab';

const run = (trigger = 'manual') => onA(`${RUNNER} run ${trigger}`, 300_000);
const stateJson = async () => JSON.parse(await mustOnA('cat /var/lib/ohitori/backup/state.json')) as Record<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function noPlaintextLeft(): Promise<void> {
  // The container is gone (it watches the runner), staging is empty, nobody holds the unlinked dump.
  // A runner killed during `docker run` leaves the daemon to create and start the container on its
  // own a moment later, so "gone" must hold for three checks in a row. A container the kill caught
  // between create and start may remain 'created' (it never ran, holds no data); the next run
  // removes it, which the caller checks at the end.
  const states = async () => (await mustOnA("docker ps -a --filter name=ohitori-backup-run --format '{{.ID}} {{.State}}'")).trim();
  let quiet = 0;
  for (let i = 0; i < 120 && quiet < 3; i++) {
    quiet = /\b(running|restarting|removing)\b/.test(await states()) ? 0 : quiet + 1;
    await sleep(500);
  }
  const left = (await mustOnA('docker ps -q --filter name=ohitori-backup-run')).trim();
  const why = left
    ? (await onA(`docker inspect -f '{{.State.StartedAt}} {{.Config.Env}}' ${left}; docker logs -t ${left} 2>&1 | tail -n 40; date -u`)).out
    : '';
  expect(left, why).toBe('');
  expect((await mustOnA('find /var/lib/ohitori/staging -mindepth 1 | wc -l')).trim()).toBe('0');
  expect((await onA("ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'db.dump (deleted)'")).out.trim()).toBe('0');
}

describe('backup job failures on lab server A', () => {
  let lab: JobLab;
  beforeAll(async () => {
    lab = await setUpJobLab({ bucket: uniqueName('ohjobf') });
    // Enough media that a run takes a few seconds and spans several parts and requests.
    await mustOnA(
      `mkdir -p ${APP_STACK_DIR}/files/big && for i in 1 2 3 4; do head -c 3000000 /dev/urandom >${APP_STACK_DIR}/files/big/$i.bin; done`,
    );
  }, 600_000);
  afterAll(async () => {
    await lab?.cleanup();
  });

  it('two runs started together: one backs up, the other exits "locked" (75) and records nothing', async () => {
    const before = (await lab.manifests()).length;
    const [a, b] = await Promise.all([run(), run()]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 75]);
    expect([a, b].find((r) => r.code === 75)!.out).toContain('@error BACKUP_JOB_LOCKED');
    expect((await lab.manifests()).length).toBe(before + 1);
  }, 300_000);

  it('SIGKILL of the whole runner at random points: no manifest for a killed run, no plaintext left; the next run leaves no multipart upload', async () => {
    const t0 = Date.now();
    expect((await run()).code).toBe(0);
    // The shortest whole run seen so far: kill points are drawn inside it. A first run is slower
    // (cold caches), so every run that finishes before its kill shortens the window.
    let normal = Date.now() - t0;
    let killedBeforeManifest = 0;
    // 8 per CI run; OHITORI_KILL_RUNS=50 for a longer soak (the "many runs"). At least half of
    // them must land before the manifest; runs that finish first do not count, up to 4× the attempts.
    const kills = Number(process.env['OHITORI_KILL_RUNS'] ?? 8);
    for (let i = 0; i < kills * 4 && (i < kills || killedBeforeManifest < Math.ceil(kills / 2)); i++) {
      const before = await lab.manifests();
      const s0 = Date.now();
      const started = onA(`setsid bash -c 'echo $$ >/run/ohitori-test-pgid; exec ${RUNNER} run manual'`, 300_000);
      await sleep(200 + Math.random() * normal * 0.8);
      await onA('kill -KILL -- -$(cat /run/ohitori-test-pgid)');
      const r = await started;
      await noPlaintextLeft();
      const after = await lab.manifests();
      if (r.code === 0) {
        normal = Math.min(normal, Date.now() - s0); // finished before the kill landed
        continue;
      }
      // A manifest may only appear for a run that got as far as writing it; then it must be whole.
      const added = after.filter((k) => !before.includes(k));
      if (added.length === 0) killedBeforeManifest++;
      for (const m of added) {
        const folder = m.slice(0, m.lastIndexOf('/') + 1);
        expect((await lab.keys()).filter((k) => k.startsWith(folder) && k.endsWith('.pgp')).length).toBeGreaterThan(1);
      }
    }
    expect(killedBeforeManifest).toBeGreaterThanOrEqual(Math.ceil(kills / 2));
    const next = await run();
    expect(next.code, next.out).toBe(0);
    expect(await lab.uploads()).toBe(0);
    expect((await mustOnA('docker ps -aq --filter name=ohitori-backup-run')).trim()).toBe('');
    // Retention removed the parts of killed runs: every folder left has its manifest.
    const keys = await lab.keys();
    const folders = new Set(keys.filter((k) => /\/\d{8}T\d{6}Z-\d{8}\//.test(k)).map((k) => k.slice(0, k.lastIndexOf('/'))));
    expect(folders.size).toBeGreaterThan(0);
    for (const f of folders) expect(keys).toContain(`${f}/manifest.json.pgp`);
  }, 3_600_000);

  it('"Back up now" cancelled from the desktop stops the run on the server: recorded as cancelled, no manifest, no plaintext', async () => {
    const before = await lab.manifests();
    const job = lab.services.jobs.start('run', 't', (ctx) => lab.services.backupJob.runNow(lab.profileId, ctx));
    // Cancel once the server is past the dump (the job container is running).
    for (let i = 0; i < 200; i++) {
      const step = lab.services.jobs.list().find((j) => j.id === job.id)?.step ?? '';
      if (/stages\.(job|prepare|upload)$/.test(step)) break;
      await sleep(50);
    }
    await lab.services.jobs.cancel(job.id);
    const end = await lab.services.jobs.wait(job.id);
    expect(end.state).toBe('cancelled');
    for (let i = 0; i < 60 && (await onA('test -e /run/ohitori-backup.pid')).code === 0; i++) await sleep(500);
    expect(await stateJson()).toMatchObject({ result: 'cancelled' });
    expect(await lab.manifests()).toEqual(before);
    await noPlaintextLeft();
  }, 300_000);

  it('a truncated dump fails the job at the read check with nothing uploaded', async () => {
    const real = (await mustOnA(compose('exec -T db sh -c "command -v pg_dump"'))).trim();
    expect(real).toMatch(/^\//);
    await mustOnA(
      compose(
        `exec -T db sh -c 'mv ${real} ${real}.real && printf "#!/bin/sh\\n${real}.real \\"\\$@\\" | head -c 3000\\n" >${real} && chmod 755 ${real}'`,
      ),
    );
    try {
      const before = await lab.keys();
      const r = await run();
      expect(r.code).toBe(1);
      expect(r.out).toContain('@error BACKUP_DUMP_FAILED');
      expect(await stateJson()).toMatchObject({ result: 'failed', stage: 'check' });
      expect(await lab.keys()).toEqual(before);
      expect(await lab.uploads()).toBe(0);
      await noPlaintextLeft();
    } finally {
      await mustOnA(compose(`exec -T db sh -c 'mv ${real}.real ${real}'`));
    }
  }, 300_000);

  it('the dump check refuses a dump changed after pg_dump wrote it (one flipped byte) and a truncated one', async () => {
    await mustOnA(`${compose('exec -T db pg_dump -U misskey -Fc -Z0 misskey')} >/var/tmp/check.dump`);
    const sha = (await mustOnA('sha256sum </var/tmp/check.dump')).split(' ')[0]!;
    expect((await onA(`${RUNNER} verify-dump /var/tmp/check.dump ${sha}`)).code).toBe(0);
    const size = Number((await mustOnA('stat -c %s /var/tmp/check.dump')).trim());
    await mustOnA(`printf '\\x5a' | dd of=/var/tmp/check.dump bs=1 seek=${Math.floor(size / 2)} conv=notrunc status=none`);
    const flipped = await onA(`${RUNNER} verify-dump /var/tmp/check.dump ${sha}`);
    expect(flipped.code).not.toBe(0);
    expect(flipped.out).toContain('changed after pg_dump');
    await mustOnA(`truncate -s ${Math.floor(size / 3)} /var/tmp/check.dump`);
    const shaT = (await mustOnA('sha256sum </var/tmp/check.dump')).split(' ')[0]!;
    const truncated = await onA(`${RUNNER} verify-dump /var/tmp/check.dump ${shaT}`);
    expect(truncated.code).not.toBe(0);
    expect(truncated.out).toContain('pg_restore could not read the whole dump');
    await mustOnA('rm -f /var/tmp/check.dump');
  }, 300_000);

  describe('storage through a fault proxy', () => {
    let proxy: FaultProxy;
    beforeAll(async () => {
      const target = new URL(lab.env.s3.endpoint);
      proxy = await startFaultProxy({ listenHost: lab.env.hostIp, targetHost: target.hostname, targetPort: Number(target.port) });
      await mustOnA(
        `sed -i 's#"endpoint": "${lab.env.s3.endpoint}"#"endpoint": "http://${lab.env.hostIp}:${proxy.port}"#' /etc/ohitori/backup.json`,
      );
      expect(await mustOnA('cat /etc/ohitori/backup.json')).toContain(`:${proxy.port}`);
    });
    afterAll(async () => {
      await onA(`sed -i 's#"endpoint": "http://${lab.env.hostIp}:[0-9]*"#"endpoint": "${lab.env.s3.endpoint}"#' /etc/ohitori/backup.json`);
      await proxy?.close();
    });

    it('unreachable: a clear failure, nothing recorded; cut mid-upload: the same; then the next run succeeds and no upload is left', async () => {
      const before = await lab.manifests();
      proxy.setMode('drop');
      const down = await run();
      expect(down.code).toBe(1);
      expect(down.out).toMatch(/@error STORAGE_UNREACHABLE/);
      expect(await stateJson()).toMatchObject({ result: 'failed', stage: 'job', job: { error: { code: 'STORAGE_UNREACHABLE' } } });
      expect(await lab.manifests()).toEqual(before);
      await noPlaintextLeft();

      proxy.setMode('pass');
      // Let listing and the first requests through, then cut every connection after ~2 MB upstream.
      proxy.setMode({ cutAfter: 2_000_000, direction: 'upstream' });
      const cut = await run();
      expect(cut.code).toBe(1);
      expect(cut.out).toMatch(/@error (STORAGE_UNREACHABLE|STORAGE_REJECTED|BACKUP_JOB_FAILED)/);
      expect(await lab.manifests()).toEqual(before);
      expect(proxy.stats().cuts).toBeGreaterThan(0);
      await noPlaintextLeft();

      proxy.setMode('pass');
      const ok = await run();
      expect(ok.code, ok.out).toBe(0);
      expect((await lab.manifests()).length).toBe(before.length + 1);
      expect(await lab.uploads()).toBe(0);
    }, 600_000);
  });

  it('retention keeps the newest N genuine backups, never counts forged manifests and never deletes them', async () => {
    await mustOnA(`sed -i 's/"keep": [0-9]*/"keep": 2/' /etc/ohitori/backup.json`);
    const outs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await run();
      outs.push(r.out);
      expect(r.code, r.out).toBe(0);
    }
    let manifests = await lab.manifests();
    expect(manifests.length, `${manifests.join('\n')}\n${outs.join('\n---\n')}`).toBe(2);
    // Forged backups (valid format, signed by a key that is not the server's) with newer ids.
    const forger = await generateServerSigningKey({ serverId: 'a-ohitori-test' });
    const { readKey } = await import('openpgp');
    const recipient = await readKey({ armoredKey: (await lab.services.keys.keyring.list())[0]!.armoredPublic });
    for (let i = 0; i < 3; i++) {
      const seq = 9_000_000 + i;
      const { manifest, manifestBytes } = await writeBackup({
        serverId: 'a-ohitori-test',
        sequence: seq,
        versions: {},
        entries: [bufferEntry('db/misskey.dump', 'forged')],
        recipients: [recipient],
        signingKey: forger.privateKey,
        runner: new InlinePartRunner(),
        now: () => new Date(Date.now() + 86_400_000 * (i + 1)),
        sink: {
          writePart: async (_name, body) => {
            for await (const _ of body) void _;
          },
          writeManifest: async () => undefined,
        },
      });
      const folder = `ohitori/a-ohitori-test/${manifest.backupId}/`;
      // Only the manifest matters to retention; store it (signed by the forger) and one part.
      await lab.s3.send(new PutObjectCommand({ Bucket: lab.bucket, Key: `${folder}manifest.json.pgp`, Body: manifestBytes }));
      await lab.s3.send(new PutObjectCommand({ Bucket: lab.bucket, Key: `${folder}part-00000.pgp`, Body: 'x' }));
    }
    const r = await run();
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/retention: not counted \(signature does not verify\)/);
    manifests = await lab.manifests();
    // 2 genuine (the newest two) + 3 forged, untouched.
    expect(manifests.length).toBe(5);
    expect(manifests.filter((k) => /\/20\d{6}T\d{6}Z-0900000\d\//.test(k)).length).toBe(3);
    expect((await stateJson()).job).toMatchObject({ retention: { state: 'applied' } });
  }, 600_000);
});
