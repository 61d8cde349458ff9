/**
 * Restore under attack and under faults, on lab server A (issue #8 "done when" 2 and 3; reliability
 * G1, G2, G3, G22). The app reaches A's sshd through a fault proxy, so the tests see every byte the
 * restore sends to the server, and can cut its connections at any moment.
 *
 * A. Tampered backups are refused with a clear code before the app even connects to the server
 *    (the proxy accepts no connection), nothing lands on the server and the live data is unchanged:
 *    a flipped byte, a truncated part, a manifest signed by another key, a backup forged with only
 *    the public keys, a genuine backup copied under a new name, and an old one re-uploaded after
 *    newer ones were listed.
 * B. The app killed (its job aborted and every connection reset at once) or only the SSH connection
 *    dropped, at each restore step: download/verify, upload, the swap started, the health wait, after
 *    done but before confirm; and the swap process itself killed on the server. Afterwards Misskey
 *    answers and the data is wholly the old or wholly the backup's; running the restore again
 *    finishes it (resuming the upload, or picking up the server's swap), and the old data stays
 *    aside until confirmed.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { readdir } from 'node:fs/promises';
import { readKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { writeBackup } from '../../../src-main/services/backup-format/backup-writer';
import { backupIdFor, MANIFEST_NAME } from '../../../src-main/services/backup-format/format';
import { signManifest, verifyManifest } from '../../../src-main/services/backup-format/manifest-signing';
import { InlinePartRunner } from '../../../src-main/services/backup-format/part-runner';
import { scratchDir } from '../../../src-main/services/files/scratch-dir';
import type { JobContext } from '../../../src-main/services/jobs/job-runner';
import { generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { RestoreService, type RestoreRequest } from '../../../src-main/services/restore/restore-service';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import type { BackupRunView } from '../../../src-main/shared/backup-job';
import { AppError, isAppError } from '../../../src-main/shared/errors';
import type { Progress } from '../../../src-main/shared/progress';
import type { RestoreResult } from '../../../src-main/shared/restore';
import { loadLabEnv } from '../../lab/env';
import { startFaultProxy, type FaultProxy } from '../../lab/fault-proxy';
import { APP_STACK_DIR, stackDigest } from '../../support/app-stack';
import { uniqueName } from '../lab/lab-ssh';
import { DESKTOP_PASSPHRASE, mustOnA, onA, psql, runJob, setUpJobLab, type JobLab } from './job-lab';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const why = (o: Outcome) => `${o.error?.code ?? 'ok'}: ${o.error?.message ?? ''}\nsteps: ${o.steps.join(' ')}\n${o.logs.join('\n')}`;
const UPLOADS = '/home/ohadmin/.ohitori-restore';
const STATE = '/var/lib/ohitori/restore/state.json';
const SCRIPT = '/usr/local/lib/ohitori/ohitori-restore';

type Live = Awaited<ReturnType<typeof stackDigest>>;
const liveState = (): Promise<Live> => stackDigest('a');

interface Outcome {
  ok: boolean;
  result?: RestoreResult;
  error?: AppError;
  /** Each step the restore reported, in order (repeats collapsed). */
  steps: string[];
  logs: string[];
  killed: boolean;
  /** bytesTotal of the upload, as the restore reported it. */
  uploadTotal: number;
  /** Bytes the app sent towards the server (through the proxy) during this run. */
  sentUp: number;
}

describe('restore: tampered backups and kills at every step (lab server A through a fault proxy)', () => {
  let lab: JobLab;
  let proxy: FaultProxy;
  let restorer: RestoreService;
  let serverFolder: string;
  let backupId: string;
  let oldId: string;
  let oldObjects: Array<{ key: string; body: Uint8Array }>;
  let atBackup: Live;
  let probe = 500_000;

  /**
   * Runs the real restore service with its own job context. `kill` decides, on each progress event,
   * whether to strike now: 'app' aborts the job and resets every connection at that instant (what a
   * killed app does to the server: it stops talking mid-sentence); 'ssh' only resets the connections.
   */
  async function restore(
    over: Partial<RestoreRequest> = {},
    kill?: { when: (p: Progress) => boolean; how: 'app' | 'ssh' },
  ): Promise<Outcome> {
    const controller = new AbortController();
    const out: Outcome = { ok: false, steps: [], logs: [], killed: false, uploadTotal: 0, sentUp: 0 };
    const up0 = proxy.stats().bytesUpstream;
    const ctx: JobContext = {
      id: 'restore-faults',
      signal: controller.signal,
      progress: (p) => {
        if (p.step && out.steps.at(-1) !== p.step) out.steps.push(p.step);
        if (p.step === 'restore.steps.upload' && p.bytesTotal) out.uploadTotal = p.bytesTotal;
        if (kill && !out.killed && kill.when(p)) {
          out.killed = true;
          if (kill.how === 'app') controller.abort();
          proxy.setMode('drop');
        }
      },
      log: (l) => out.logs.push(l),
      ask: () => Promise.reject(new AppError('CANCELLED', 'this test answers no questions')),
    };
    const req: RestoreRequest = { sourceProfileId: lab.profileId, targetProfileId: lab.profileId, backupId, ...over };
    const run = restorer.run(req, ctx);
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_r, rej) => {
      timer = setTimeout(() => rej(new Error(`the restore did not end within 4 minutes\n${why(out)}`)), 240_000);
    });
    try {
      out.result = await Promise.race([run, limit]);
      out.ok = true;
    } catch (e) {
      if (!isAppError(e)) throw e;
      out.error = e;
    } finally {
      clearTimeout(timer);
      out.sentUp = proxy.stats().bytesUpstream - up0;
      proxy.setMode('pass');
    }
    return out;
  }

  /** Makes the live state differ from the backup's (a row and a file), so old and new are told apart. */
  async function changeLive(): Promise<Live> {
    probe++;
    await mustOnA(psql(`insert into restore_probe values (${probe}, 'live after the backup ${probe}')`));
    await mustOnA(`echo ${probe} >${APP_STACK_DIR}/files/live-${probe}.txt && chown 991:991 ${APP_STACK_DIR}/files/live-${probe}.txt`);
    const live = await liveState();
    expect(live).not.toEqual(atBackup);
    return live;
  }

  /** Waits until no swap process runs on the server; its state file's phase (or 'none'). */
  async function settled(): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const r = await onA(
        `[ -f ${STATE} ] || { echo none; exit 0; }; pid=$(grep -oE '"pid":[0-9]+' ${STATE} | cut -d: -f2); ` +
          `kill -0 "$pid" 2>/dev/null && echo running || grep -oE '"phase":"[a-z-]+"' ${STATE} | cut -d'"' -f4`,
      );
      const s = r.out.trim();
      if (s !== 'running') return s;
      await sleep(1000);
    }
    throw new Error('the swap on the server did not end');
  }

  /** After a kill: Misskey answers, and the data is wholly `expected` (old or new), never a mix. */
  async function healthyAs(expected: 'old' | 'new', old: Live): Promise<void> {
    expect((await onA('curl -fsS --max-time 10 http://127.0.0.1:3000/healthz')).code, 'Misskey answers').toBe(0);
    const now = await liveState();
    expect([old, atBackup]).toContainEqual(now); // whole, not mixed
    expect(now).toEqual(expected === 'old' ? old : atBackup);
  }

  /** Restores again (no faults), checks the result is the backup's, the old data kept aside, then confirms. */
  async function rerunAndConfirm(old: Live, expectAdopted: boolean): Promise<Outcome> {
    const again = await restore();
    expect(again.ok, why(again)).toBe(true);
    expect(again.result).toMatchObject({ backupId, phase: 'healthy' });
    expect(Boolean(again.result!.adopted)).toBe(expectAdopted);
    expect(await liveState()).toEqual(atBackup);
    // The live state before the restore is kept aside: its extra row and file.
    const { keptAside, stamp } = again.result!;
    expect((await mustOnA(psql(`select count(*) from restore_probe where id = ${probe}`, keptAside))).trim()).toBe('1');
    expect((await onA(`test -f ${APP_STACK_DIR}/files.pre-${stamp}/live-${probe}.txt`)).code).toBe(0);
    const c = await runJob(lab.services, (ctx) => lab.services.restore.confirm(lab.profileId, ctx));
    expect(c.state).toBe('done');
    expect((await mustOnA(psql(`select count(*) from pg_database where datname = '${keptAside}'`))).trim()).toBe('0');
    expect((await mustOnA(`ls -A ${UPLOADS} 2>/dev/null | wc -l`)).trim()).toBe('0');
    return again;
  }

  const objectsUnder = async (folder: string) => {
    const page = await lab.s3.send(new ListObjectsV2Command({ Bucket: lab.bucket, Prefix: folder }));
    return (page.Contents ?? []).map((o) => o.Key!).sort();
  };
  const getObject = async (key: string) =>
    (await lab.s3.send(new GetObjectCommand({ Bucket: lab.bucket, Key: key }))).Body!.transformToByteArray();
  const putObject = (key: string, body: Uint8Array) => lab.s3.send(new PutObjectCommand({ Bucket: lab.bucket, Key: key, Body: body }));
  const deleteObjects = (keys: string[]) =>
    lab.s3.send(new DeleteObjectsCommand({ Bucket: lab.bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));

  beforeAll(async () => {
    const env = loadLabEnv();
    proxy = await startFaultProxy({ listenHost: '127.0.0.1', targetHost: env.servers.a.ip, targetPort: 22 });
    lab = await setUpJobLab({ bucket: uniqueName('ohrfault'), via: { host: '127.0.0.1', port: proxy.port } });
    const s = lab.services;
    // The real service, polling the server's state every 200 ms so the tests can strike at each phase.
    restorer = new RestoreService({
      dataDir: s.options.dataDir,
      secrets: s.vault,
      hostKeys: new HostKeyStore(s.options.dataDir),
      profile: (id) => s.profiles.get(id),
      storage: s.storage,
      keyring: s.keys.keyring,
      pins: s.pins,
      catalog: s.backups.catalog,
      pollMs: 200,
    });
    await mustOnA(
      psql(
        "create table restore_probe(id int primary key, body text); insert into restore_probe select g, '投稿 ' || g from generate_series(1, 3000) g",
      ),
    );
    // ~20 MiB of media that does not compress: two parts, and an upload long enough to cut mid-way.
    await mustOnA(
      `mkdir -p "${APP_STACK_DIR}/files/2026" && for i in 1 2 3 4 5; do head -c 4000000 /dev/urandom >"${APP_STACK_DIR}/files/2026/写真 $i.webp"; done && chown -R 991:991 ${APP_STACK_DIR}/files`,
    );
    const backup = async () => {
      const job = await runJob<BackupRunView>(s, (ctx) => s.backupJob.runNow(lab.profileId, ctx));
      if (job.state !== 'done') throw new Error(`backup failed: ${JSON.stringify(job.error)}`);
      return job.result!.backupId!;
    };
    const t = await s.backups.catalog.target(lab.profileId);
    serverFolder = t.serverFolder;
    t.client.destroy();
    // An older backup, taken away before the desktop ever lists it (it comes back later as a replay).
    oldId = await backup();
    const oldKeys = await objectsUnder(`${serverFolder}${oldId}/`);
    oldObjects = await Promise.all(oldKeys.map(async (key) => ({ key, body: await getObject(key) })));
    await deleteObjects(oldKeys);
    backupId = await backup();
    atBackup = await liveState();
    const listing = await s.backups.catalog.list(lab.profileId);
    expect(listing.latestGenuine).toBe(backupId);
    await s.keys.keyring.unlock(DESKTOP_PASSPHRASE);
  }, 600_000);
  afterAll(async () => {
    await lab?.cleanup();
    await proxy?.close();
  });

  describe('A. tampered backups: refused before the server is contacted', () => {
    /** Runs the restore and checks: refused with `code`, no connection to the server at all, nothing there, live data unchanged. */
    async function refusedUntouched(code: string, over: Partial<RestoreRequest> = {}): Promise<Outcome> {
      const live = await changeLive();
      const accepted = proxy.stats().accepted;
      const r = await restore(over);
      expect(r.ok, r.logs.join('\n')).toBe(false);
      expect(r.error?.code, r.error?.message).toBe(code);
      expect(proxy.stats().accepted, 'the app opened no connection to the server').toBe(accepted);
      expect(r.sentUp).toBe(0);
      expect(r.steps).not.toContain('restore.steps.checks');
      expect((await onA(`ls -A ${UPLOADS} 2>/dev/null | wc -l`)).out.trim()).toBe('0');
      expect((await onA(`test -e ${STATE} || test -e ${SCRIPT}`)).code, 'no swap script was written or run').not.toBe(0);
      expect(await liveState()).toEqual(live);
      return r;
    }

    it('one flipped byte in the last part: BACKUP_DAMAGED after the download, nothing sent', async () => {
      const parts = (await objectsUnder(`${serverFolder}${backupId}/`)).filter((k) => k !== `${serverFolder}${backupId}/${MANIFEST_NAME}`);
      expect(parts.length).toBeGreaterThanOrEqual(2);
      const key = parts.at(-1)!;
      const original = await getObject(key);
      const bad = Buffer.from(original);
      bad[Math.floor(bad.length / 2)]! ^= 0x01;
      await putObject(key, bad);
      try {
        const r = await refusedUntouched('BACKUP_DAMAGED');
        expect(r.steps).toContain('restore.steps.verify'); // it was downloaded and checked here
      } finally {
        await putObject(key, original);
      }
    }, 300_000);

    it('a truncated part: BACKUP_INCOMPLETE', async () => {
      const key = `${serverFolder}${backupId}/part-00000.pgp`;
      const original = await getObject(key);
      await putObject(key, original.subarray(0, Math.floor(original.length * 0.7)));
      try {
        await refusedUntouched('BACKUP_INCOMPLETE');
      } finally {
        await putObject(key, original);
      }
    }, 300_000);

    it('the genuine manifest re-signed by another key: BACKUP_SIGNATURE_INVALID', async () => {
      const key = `${serverFolder}${backupId}/${MANIFEST_NAME}`;
      const original = await getObject(key);
      const [pinned] = await lab.services.pins.publicKeys(lab.profileId);
      const manifest = await verifyManifest(original, pinned!);
      const other = await generateServerSigningKey({ serverId: manifest.serverId });
      // The attacker's manifest names the attacker's key (it must, or its own signature check fails).
      const resigned = { ...manifest, signingKey: other.privateKey.getFingerprint().toUpperCase() };
      await putObject(key, await signManifest(resigned, other.privateKey));
      try {
        await refusedUntouched('BACKUP_SIGNATURE_INVALID');
      } finally {
        await putObject(key, original);
      }
    }, 300_000);

    it('a backup forged with only the public keys (encrypted to this computer, signed by the forger): BACKUP_SIGNATURE_INVALID, never latest', async () => {
      const [pinned] = await lab.services.pins.publicKeys(lab.profileId);
      const real = await verifyManifest(await getObject(`${serverFolder}${backupId}/${MANIFEST_NAME}`), pinned!);
      const forger = await generateServerSigningKey({ serverId: real.serverId });
      const recipient = await readKey({ armoredKey: (await lab.services.keys.keyring.list())[0]!.armoredPublic });
      const yml = await mustOnA(`cat ${APP_STACK_DIR}/.config/default.yml`);
      const parts = new Map<string, Buffer>();
      const { manifest, manifestBytes } = await writeBackup({
        serverId: real.serverId,
        sequence: real.sequence + 100,
        versions: real.versions,
        entries: [
          bufferEntry('db/misskey.dump', 'PGDMP the attacker’s database'),
          bufferEntry('config/.config/default.yml', yml), // the same url and id: it would pass the identity check
          bufferEntry('files/evil.txt', 'planted'),
        ],
        recipients: [recipient],
        signingKey: forger.privateKey,
        runner: new InlinePartRunner(),
        now: () => new Date(Date.parse(real.finishedAt) + 3_600_000),
        sink: {
          writePart: async (name, body) => {
            const chunks: Buffer[] = [];
            for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
            parts.set(name, Buffer.concat(chunks));
          },
          writeManifest: async () => undefined,
        },
      });
      const folder = `${serverFolder}${manifest.backupId}/`;
      for (const [name, body] of parts) await putObject(folder + name, body);
      await putObject(folder + MANIFEST_NAME, manifestBytes);
      try {
        await refusedUntouched('BACKUP_SIGNATURE_INVALID', { backupId: manifest.backupId });
        const listing = await lab.services.backups.catalog.list(lab.profileId);
        expect(listing.entries.find((e) => e.backupId === manifest.backupId)?.state).toBe('forged');
        expect(listing.latestGenuine).toBe(backupId);
      } finally {
        await deleteObjects(await objectsUnder(folder));
      }
    }, 300_000);

    it('a genuine backup copied under a newer name: BACKUP_REPLAYED', async () => {
      const [pinned] = await lab.services.pins.publicKeys(lab.profileId);
      const real = await verifyManifest(await getObject(`${serverFolder}${backupId}/${MANIFEST_NAME}`), pinned!);
      const copyId = backupIdFor(new Date(Date.parse(real.finishedAt) + 86_400_000), real.sequence + 1);
      const from = `${serverFolder}${backupId}/`;
      for (const key of await objectsUnder(from))
        await putObject(`${serverFolder}${copyId}/${key.slice(from.length)}`, await getObject(key));
      try {
        const r = await refusedUntouched('BACKUP_REPLAYED', { backupId: copyId });
        expect(r.error?.details).toMatchObject({ state: 'replayed', reasons: ['location-mismatch'] });
        expect((await lab.services.backups.catalog.list(lab.profileId)).latestGenuine).toBe(backupId);
      } finally {
        await deleteObjects(await objectsUnder(`${serverFolder}${copyId}/`));
      }
    }, 300_000);

    it('an older backup re-uploaded after a newer one was listed: BACKUP_REPLAYED, never restored', async () => {
      for (const o of oldObjects) await putObject(o.key, o.body);
      try {
        const r = await refusedUntouched('BACKUP_REPLAYED', { backupId: oldId });
        expect(r.error?.details).toMatchObject({ state: 'replayed', reasons: ['older-than-known'] });
        // Still never the latest, and still refused when asked again.
        expect((await lab.services.backups.catalog.list(lab.profileId)).latestGenuine).toBe(backupId);
        await refusedUntouched('BACKUP_REPLAYED', { backupId: oldId });
      } finally {
        await deleteObjects(oldObjects.map((o) => o.key));
      }
    }, 300_000);
  });

  describe('B. killed at each step: the server stays whole, old or new, and a rerun finishes', () => {
    const phase = (p: Progress) => p.step?.startsWith('restore.phases.') === true;

    it('app killed while downloading and verifying: nothing was sent; the rerun restores', async () => {
      const old = await changeLive();
      const accepted = proxy.stats().accepted;
      const r = await restore({}, { how: 'app', when: (p) => p.step === 'restore.steps.verify' && (p.bytesDone ?? 0) > 0 });
      expect(r.killed, why(r)).toBe(true);
      expect(r.ok).toBe(false);
      expect(proxy.stats().accepted).toBe(accepted);
      // The decrypted staging copy on this computer went with the job.
      expect(await readdir(scratchDir(lab.services.options.dataDir)).catch(() => [])).toEqual([]);
      expect(['none', 'confirmed']).toContain(await settled()); // no swap began
      await healthyAs('old', old);
      await rerunAndConfirm(old, false);
    }, 600_000);

    it('app killed mid-upload: the partial file stays, the old data serves; the rerun resumes and sends only the rest', async () => {
      const old = await changeLive();
      const r = await restore({}, { how: 'app', when: (p) => p.step === 'restore.steps.upload' && (p.fraction ?? 0) >= 0.6 });
      expect(r.killed, why(r)).toBe(true);
      expect(r.ok).toBe(false);
      expect(r.uploadTotal).toBeGreaterThan(16 * 1024 * 1024);
      expect(r.sentUp).toBeGreaterThan(r.uploadTotal * 0.6);
      const partial = Number((await mustOnA(`cat ${UPLOADS}/${backupId}/* | wc -c`)).trim());
      expect(partial).toBeGreaterThan(r.uploadTotal * 0.5);
      expect(['none', 'confirmed']).toContain(await settled()); // no swap began
      await healthyAs('old', old);
      const again = await rerunAndConfirm(old, false);
      expect(again.logs.join('\n')).toMatch(/resuming at \d+/);
      // Only what was missing went over the wire again (plus SSH's own few KiB).
      expect(again.sentUp).toBeLessThan(again.uploadTotal * 0.6);
    }, 600_000);

    it('SSH dropped mid-upload (the app keeps running): the job fails on its own; the rerun resumes', async () => {
      const old = await changeLive();
      const r = await restore({}, { how: 'ssh', when: (p) => p.step === 'restore.steps.upload' && (p.fraction ?? 0) >= 0.3 });
      expect(r.killed, why(r)).toBe(true);
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('CONNECTION_LOST');
      expect(['none', 'confirmed']).toContain(await settled());
      await healthyAs('old', old);
      const again = await rerunAndConfirm(old, false);
      expect(again.logs.join('\n')).toMatch(/resuming at \d+|already on the server/);
      expect(again.sentUp).toBeLessThan(again.uploadTotal * 0.85);
    }, 600_000);

    it('app killed once the swap started: the server finishes alone; the rerun picks up its swap and sends nothing again', async () => {
      const old = await changeLive();
      const r = await restore({}, { how: 'app', when: phase });
      expect(r.killed, why(r)).toBe(true);
      expect(r.ok).toBe(false);
      expect(await settled()).toBe('healthy');
      await healthyAs('new', old);
      const again = await rerunAndConfirm(old, true);
      expect(again.sentUp).toBeLessThan(512 * 1024);
    }, 600_000);

    it('SSH dropped during the health wait: the server finishes alone; the rerun picks it up', async () => {
      const old = await changeLive();
      const r = await restore({}, { how: 'ssh', when: (p) => p.step === 'restore.phases.web-started' });
      expect(r.killed, why(r)).toBe(true);
      expect(r.ok).toBe(false);
      expect(await settled()).toBe('healthy');
      await healthyAs('new', old);
      await rerunAndConfirm(old, true);
    }, 600_000);

    it('app killed after the restore was done but before confirm: the old data is still aside; the rerun and confirm work', async () => {
      const old = await changeLive();
      const first = await restore();
      expect(first.ok, why(first)).toBe(true);
      proxy.setMode('drop'); // the app dies now, before the user confirms
      await sleep(200);
      proxy.setMode('pass');
      expect(await settled()).toBe('healthy');
      await healthyAs('new', old);
      const again = await rerunAndConfirm(old, true);
      expect(again.result!.stamp).toBe(first.result!.stamp);
    }, 600_000);

    it('the swap process itself killed on the server with the old data moved aside: the rerun puts it back, then restores', async () => {
      const old = await changeLive();
      // A watcher on the server kills the swap's whole process group as soon as it reports "aside".
      const watcher = onA(
        `for i in $(seq 1 1800); do if grep -q '"phase":"aside"' ${STATE} 2>/dev/null; then ` +
          `pid=$(grep -oE '"pid":[0-9]+' ${STATE} | cut -d: -f2); kill -KILL -- -"$pid" 2>/dev/null || kill -KILL "$pid"; echo killed; exit 0; fi; sleep 0.05; done; echo missed`,
        300_000,
      );
      const r = await restore();
      expect((await watcher).out.trim()).toBe('killed');
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('REMOTE_COMMAND_FAILED');
      expect(await settled()).toBe('aside');
      // The old database and files are aside, untouched, until the rerun recovers them.
      const again = await rerunAndConfirm(old, false);
      expect(again.logs.join('\n')).toMatch(/interrupted restore was found \(aside\)/);
    }, 600_000);
  });
});
