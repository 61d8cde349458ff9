import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PrivateKey, PublicKey } from 'openpgp';
import { readPrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferEntry } from '../../../src-main/services/backup-format/archive';
import { backupFolder, backupIdFor, partName } from '../../../src-main/services/backup-format/format';
import type { BackupManifest } from '../../../src-main/services/backup-format/manifest';
import { signManifest } from '../../../src-main/services/backup-format/manifest-signing';
import type { Services } from '../../../src-main/services/app-services';
import { BackupCatalog } from '../../../src-main/services/backups/backup-catalog';
import { BackupDrill } from '../../../src-main/services/backups/backup-drill';
import { BackupVerifier } from '../../../src-main/services/backups/backup-verify';
import { CatalogStore } from '../../../src-main/services/backups/catalog-store';
import { serverIdFor, SigningKeyPins } from '../../../src-main/services/backups/signing-pins';
import { generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import { openProfileSession } from '../../../src-main/services/setup/open-session';
import type { BackupListing, VerifyRecord } from '../../../src-main/shared/backups';
import type { JobSnapshot } from '../../../src-main/shared/jobs';
import type { LabEnv } from '../../lab/env';
import {
  copyFolder,
  createBucket,
  dropBucket,
  flipByte,
  getObject,
  labS3,
  makeBackup,
  PG15_DUMP,
  putObject,
  writeUnsignedManifest,
} from '../../support/s3-backups';
import { appServicesFor } from '../../support/app-stack';
import { uniqueName } from '../lab/lab-ssh';

const PASSPHRASE = 'catalog desktop key passphrase 7 orchids';
const PREFIX = 'ohitori/';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('backup catalog and verify against the lab s3rver (server B for the dump check)', () => {
  let env: LabEnv;
  let services: Services;
  let cleanup: () => Promise<void>;
  let s3: S3Client;
  let profileId: string;
  let serverId: string;
  let signing: PrivateKey;
  let desktop: PublicKey;
  const bucket = uniqueName('catalog');
  const now = Date.now();
  const ids: Record<string, string> = {};
  const at = (ms: number) => new Date(now - ms);
  const folder = (id: string) => backupFolder(PREFIX, serverId, id);

  async function runJob(body: Parameters<Services['jobs']['start']>[2]): Promise<JobSnapshot> {
    const job = services.jobs.start('backup-verify', 'jobs.kinds.backupVerify', body, profileId);
    return services.jobs.wait(job.id);
  }
  const verify = (backupId: string, verifier = services.backups.verifier) => runJob((ctx) => verifier.verify(profileId, backupId, ctx));
  const list = (): Promise<BackupListing> => services.backups.catalog.list(profileId);

  beforeAll(async () => {
    const app = await appServicesFor('b');
    ({ services, env, cleanup } = app);
    // Keys and access keys need a vault that can store them.
    await services.vault.setPassphrase('catalog vault passphrase 1');
    profileId = await app.addProfile();
    serverId = serverIdFor(env.servers.b.domain);
    s3 = labS3(env);
    await createBucket(s3, bucket);
    await services.storage.save({
      profileId,
      preset: 'minio',
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      bucket,
      prefix: PREFIX,
      forcePathStyle: true,
      desktopAccessKeyId: env.s3.accessKeyId,
      desktopSecret: env.s3.secretAccessKey,
    });
    const key = await generateServerSigningKey({ serverId });
    signing = await readPrivateKey({ armoredKey: key.armoredPrivate });
    await new SigningKeyPins(services.options.dataDir).pin(profileId, serverId, key.armoredPublic);
    await services.keys.generate({ name: 'Catalog desktop', passphrase: PASSPHRASE });
    desktop = (await services.keys.keyring.recipientKeys())[0]!;
    const base = { s3, bucket, prefix: PREFIX, serverId, recipients: [desktop], signingKey: signing };

    // Genuine backups (one with an unreadable dump, one that gets a flipped byte, one a truncated part).
    const b1 = await makeBackup({ ...base, sequence: 1, at: at(6 * DAY) });
    ids.genuineOld = b1.backupId;
    ids.badDump = (
      await makeBackup({ ...base, sequence: 2, at: at(5 * DAY), dump: PG15_DUMP.subarray(0, PG15_DUMP.length - 3000) })
    ).backupId;
    const b3 = await makeBackup({ ...base, sequence: 3, at: at(4 * DAY) });
    ids.flipped = b3.backupId;
    await flipByte(s3, bucket, folder(b3.backupId) + partName(1), 333);
    const b4 = await makeBackup({ ...base, sequence: 4, at: at(3.5 * DAY) });
    ids.truncated = b4.backupId;
    const p0 = await getObject(s3, bucket, folder(b4.backupId) + partName(0));
    await putObject(s3, bucket, folder(b4.backupId) + partName(0), p0.subarray(0, p0.length - 100));
    // Signed by another key.
    const other = await readPrivateKey({ armoredKey: (await generateServerSigningKey({ serverId })).armoredPrivate });
    ids.otherKey = (await makeBackup({ ...base, signingKey: other, sequence: 5, at: at(3 * DAY) })).backupId;
    // Forged with only public keys: real parts encrypted to the desktop, an unsigned manifest.
    const forgedId = backupIdFor(at(2 * DAY), 6);
    ids.unsigned = forgedId;
    await copyFolder(s3, bucket, folder(b1.backupId), folder(forgedId));
    await writeUnsignedManifest(s3, bucket, folder(forgedId), { ...b1, backupId: forgedId, sequence: 6 } as BackupManifest);
    // An old genuine backup replayed under a new name.
    ids.replayed = backupIdFor(at(DAY), 7);
    await copyFolder(s3, bucket, folder(b1.backupId), folder(ids.replayed));
    // The newest genuine one, and a run still uploading (parts, no manifest yet).
    ids.latest = (await makeBackup({ ...base, sequence: 8, at: at(12 * HOUR) })).backupId;
    ids.running = backupIdFor(at(10 * 60_000), 9);
    await putObject(s3, bucket, folder(ids.running) + partName(0), new Uint8Array(1000));
  }, 240_000);

  afterAll(async () => {
    if (s3) {
      await dropBucket(s3, bucket);
      s3.destroy();
    }
    await cleanup?.();
  });

  it('lists every folder with its state, newest genuine as latest, flagged ones never latest', async () => {
    const l = await list();
    const state = Object.fromEntries(l.entries.map((e) => [e.backupId, e.state]));
    expect(state).toEqual({
      [ids.genuineOld!]: 'genuine',
      [ids.badDump!]: 'genuine',
      [ids.flipped!]: 'genuine', // a flipped byte keeps the size: only verify finds it
      [ids.truncated!]: 'incomplete',
      [ids.otherKey!]: 'forged',
      [ids.unsigned!]: 'unsigned',
      [ids.replayed!]: 'replayed',
      [ids.latest!]: 'genuine',
      [ids.running!]: 'in-progress',
    });
    expect(l.latestGenuine).toBe(ids.latest);
    expect(l.knownHighest).toBe(8);
    const latest = l.entries.find((e) => e.backupId === ids.latest)!;
    expect(latest.versions).toEqual({ misskey: '2025.4.0', postgres: '15.8' });
    expect(latest.size).toBeGreaterThan(PG15_DUMP.length / 4);
    expect(l.entries.find((e) => e.backupId === ids.replayed)!.reasons).toContain('location-mismatch');
    expect(l.entries.find((e) => e.backupId === ids.truncated)!.reasons).toContain(`size:${partName(0)}`);
    expect(l.fetched).toBe(8);

    // A re-list reads no manifest again (cached by key + ETag).
    const again = await list();
    expect(again.fetched).toBe(0);
    expect(again.entries.map((e) => e.state)).toEqual(l.entries.map((e) => e.state));

    // The same folder an hour and more later, still without a manifest: abandoned.
    const later = new BackupCatalog({
      profiles: services.profiles,
      storage: services.storage,
      pins: new SigningKeyPins(services.options.dataDir),
      store: new CatalogStore(services.options.dataDir),
      now: () => new Date(now + 2 * HOUR),
    });
    const run = (await later.list(profileId)).entries.find((e) => e.backupId === ids.running)!;
    expect(run.state).toBe('incomplete');
    expect(run.reasons).toEqual(['abandoned']);
  });

  it('verifies a genuine backup end to end (pg_restore 15 on this computer) and stores the result', async () => {
    const old = await verify(ids.genuineOld!);
    expect(old.state, JSON.stringify(old.error)).toBe('done');
    const job = await verify(ids.latest!);
    expect(job.state, JSON.stringify(job.error)).toBe('done');
    expect(job.result).toMatchObject({ ok: true, dumpCheck: 'local' });
    expect(job.bytesDone).toBe(job.bytesTotal);
    const l = await list();
    expect(l.entries.find((e) => e.backupId === ids.latest)!.verified).toMatchObject({ ok: true });
    const summary = await services.backups.catalog.summary(profileId);
    expect(summary.latest?.backupId).toBe(ids.latest);
    expect(summary.latest?.verified?.ok).toBe(true);
    expect(summary.flagged).toBe(4);
  });

  it('refuses each tampered backup with its code and marks it failed', async () => {
    const cases: Array<[string, string]> = [
      [ids.flipped!, 'BACKUP_DAMAGED'],
      [ids.truncated!, 'BACKUP_INCOMPLETE'],
      [ids.otherKey!, 'BACKUP_SIGNATURE_INVALID'],
      [ids.unsigned!, 'BACKUP_UNSIGNED'],
      [ids.replayed!, 'BACKUP_REPLAYED'],
      [ids.badDump!, 'BACKUP_DUMP_UNREADABLE'],
    ];
    for (const [id, code] of cases) {
      const job = await verify(id);
      expect(job.state, id).toBe('failed');
      expect(job.error?.code, id).toBe(code);
    }
    const verified = (await services.backups.catalog.store.read(profileId)).verified;
    for (const [id, code] of cases) expect(verified[id]).toMatchObject({ ok: false, code });
  });

  it('refuses a manifest swapped after listing (verify fetches and checks it again)', async () => {
    await list();
    const forged = await getObject(s3, bucket, folder(ids.otherKey!) + 'manifest.json.pgp');
    const original = await getObject(s3, bucket, folder(ids.genuineOld!) + 'manifest.json.pgp');
    await putObject(s3, bucket, folder(ids.genuineOld!) + 'manifest.json.pgp', forged);
    try {
      // Through the catalog's target directly: the cached listing still says genuine.
      const t = await services.backups.catalog.target(profileId);
      await expect(services.backups.catalog.freshManifest(t, ids.genuineOld!)).rejects.toMatchObject({ code: 'BACKUP_SIGNATURE_INVALID' });
      t.client.destroy();
    } finally {
      await putObject(s3, bucket, folder(ids.genuineOld!) + 'manifest.json.pgp', original);
    }
  });

  it('asks for the key passphrase when the key is locked, again after a wrong one', async () => {
    services.keys.keyring.lock();
    const job = services.jobs.start(
      'backup-verify',
      'jobs.kinds.backupVerify',
      (ctx) => services.backups.verifier.verify(profileId, ids.genuineOld!, ctx),
      profileId,
    );
    const prompt = async (): Promise<NonNullable<JobSnapshot['prompt']>> => {
      for (let i = 0; i < 600; i++) {
        const p = services.jobs.get(job.id).prompt;
        if (p) return p;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no prompt');
    };
    const first = await prompt();
    expect(first).toMatchObject({ kind: 'secret', messageKey: 'backupList.unlockPrompt' });
    services.jobs.answer(job.id, first.id, { accepted: true, value: 'not the passphrase' });
    let second = await prompt();
    while (second.id === first.id) second = await prompt();
    expect(second.messageKey).toBe('backupList.unlockAgain');
    services.jobs.answer(job.id, second.id, { accepted: true, value: PASSPHRASE });
    const done = await services.jobs.wait(job.id);
    expect(done.state, JSON.stringify(done.error)).toBe('done');
  });

  it('reads the dump in a throwaway postgres:15-alpine container on server B when this computer has no pg_restore 15', async () => {
    const hostKeys = new HostKeyStore(services.options.dataDir);
    const remote = new BackupVerifier({
      catalog: services.backups.catalog,
      keyring: services.keys.keyring,
      openSession: async (id, ctx) => openProfileSession(await services.profiles.get(id), services.vault, hostKeys, ctx),
      findPgRestore: async () => undefined,
    });
    const ok = await verify(ids.genuineOld!, remote);
    expect(ok.state, JSON.stringify(ok.error)).toBe('done');
    expect((ok.result as VerifyRecord).dumpCheck).toBe('server');
    const bad = await verify(ids.badDump!, remote);
    expect(bad.error?.code).toBe('BACKUP_DUMP_UNREADABLE');
    expect(bad.error?.details?.where).toBe('server');
  });

  it('weekly drill (injected clock): verifies the newest genuine backup when due, and catches a flipped byte a week later', async () => {
    let clock = new Date(now);
    const drill = new BackupDrill({
      catalog: services.backups.catalog,
      verifier: services.backups.verifier,
      jobs: services.jobs,
      profileIds: async () => [profileId],
      now: () => clock,
    });
    expect(await drill.tick()).toEqual([]); // off by default
    expect((await drill.set(profileId, true)).nextDueAt).toBe(clock.toISOString());
    const [first] = await drill.tick();
    expect(await drill.tick()).toEqual([]); // one at a time, and not again this week
    const ok = await services.jobs.wait(first!);
    expect(ok.state, JSON.stringify(ok.error)).toBe('done');
    expect(ok.result).toMatchObject({ backupId: ids.latest, ok: true });
    expect((await drill.get(profileId)).nextDueAt).toBe(new Date(now + 7 * DAY).toISOString());

    clock = new Date(now + 6 * DAY);
    expect(await drill.tick()).toEqual([]);
    await flipByte(s3, bucket, folder(ids.latest!) + partName(0), 1500);
    clock = new Date(now + 7 * DAY);
    const [second] = await drill.tick();
    const failed = await services.jobs.wait(second!);
    expect(failed.error?.code).toBe('BACKUP_DAMAGED');
    const summary = await services.backups.catalog.summary(profileId);
    expect(summary.latest?.backupId).toBe(ids.latest);
    expect(summary.latest?.verified).toMatchObject({ ok: false, code: 'BACKUP_DAMAGED' });
    await drill.set(profileId, false);
  });

  it('cancels a verify mid-download: the job ends cancelled, the stored result is unchanged, no temp files remain', async () => {
    const big = await makeBackup({
      s3,
      bucket,
      prefix: PREFIX,
      serverId,
      recipients: [desktop],
      signingKey: signing,
      sequence: 10,
      at: at(HOUR),
      extra: [bufferEntry('files/large.bin', randomBytes(12 * 1024 * 1024))],
      partSize: 1024 * 1024,
    });
    await list();
    // Its own temp base, so other suites' restore temp dirs on this machine do not count.
    const tempBase = await mkdtemp(join(tmpdir(), 'catalog-cancel-'));
    const verifier = new BackupVerifier({
      catalog: services.backups.catalog,
      keyring: services.keys.keyring,
      openSession: () => Promise.reject(new Error('no SSH needed')),
      tempBase,
    });
    let sawTotal = 0;
    const job = services.jobs.start(
      'backup-verify',
      'jobs.kinds.backupVerify',
      (ctx) =>
        verifier.verify(profileId, big.backupId, {
          ...ctx,
          progress: (p) => {
            ctx.progress(p);
            // Cancel as soon as verified bytes flow (the user pressing Cancel mid-download).
            if ((p.bytesDone ?? 0) > 0 && !sawTotal) {
              sawTotal = p.bytesTotal ?? -1;
              services.jobs.cancel(job.id);
            }
          },
        }),
      profileId,
    );
    expect((await services.jobs.wait(job.id)).state).toBe('cancelled');
    expect(sawTotal).toBeGreaterThan(12 * 1024 * 1024);
    expect((await services.backups.catalog.store.read(profileId)).verified[big.backupId]).toBeUndefined();
    // The reader removes its private temp dir as it unwinds (asynchronously, right after the job settles).
    await expect.poll(() => readdir(tempBase), { timeout: 5_000, interval: 50 }).toEqual([]);
    await rm(tempBase, { recursive: true, force: true });
  });

  it('pages through thousands of manifests and re-lists from the cache', async () => {
    const pagingDomain = 'paging.catalog.example.test';
    const app = services;
    const paging = (
      await app.profiles.save({
        name: 'paging',
        host: '10.231.0.3',
        port: 22,
        user: 'ohadmin',
        auth: 'agent',
        domain: pagingDomain,
        stackDir: '/var/servers/docker/misskey',
      })
    ).id;
    const sid = serverIdFor(pagingDomain);
    await app.storage.save({
      profileId: paging,
      preset: 'minio',
      endpoint: env.s3.endpoint,
      region: env.s3.region,
      bucket,
      prefix: PREFIX,
      forcePathStyle: true,
      desktopAccessKeyId: env.s3.accessKeyId,
      desktopSecret: env.s3.secretAccessKey,
    });
    await new SigningKeyPins(app.options.dataDir).pin(paging, sid, signing.toPublic().armor());
    const N = 2000;
    const template: BackupManifest = {
      format: 'ohitori-backup',
      formatVersion: 1,
      serverId: sid,
      backupId: '',
      sequence: 0,
      startedAt: '',
      finishedAt: '',
      versions: { misskey: '2025.4.0', postgres: '15.8' },
      contents: ['db'],
      recipients: [desktop.getFingerprint().toUpperCase()],
      signingKey: signing.getFingerprint().toUpperCase(),
      archive: 'tar',
      compression: 'zstd',
      encryption: 'openpgp-seipdv1',
      partSize: 1024,
      parts: [{ name: partName(0), size: 10, sha256: '0'.repeat(64), plainSize: 1 }],
    };
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const i = next++;
          const t = new Date(Date.UTC(2026, 0, 1) + i * 60_000);
          const m = {
            ...template,
            backupId: backupIdFor(t, i + 1),
            sequence: i + 1,
            startedAt: t.toISOString(),
            finishedAt: t.toISOString(),
          };
          await putObject(s3, bucket, backupFolder(PREFIX, sid, m.backupId) + 'manifest.json.pgp', await signManifest(m, signing));
        }
      }),
    );
    const wrote = Date.now() - started;
    const t0 = Date.now();
    const first = await app.backups.catalog.list(paging);
    const t1 = Date.now();
    const second = await app.backups.catalog.list(paging);
    const t2 = Date.now();
    console.log(`paging: wrote ${N} manifests in ${wrote} ms; first list ${t1 - t0} ms, cached re-list ${t2 - t1} ms`);
    expect(first.entries).toHaveLength(N);
    expect(first.fetched).toBe(N);
    // Their parts were never uploaded: every one is shown, flagged incomplete, none is "latest".
    expect(first.entries.every((e) => e.state === 'incomplete' && e.sequence !== undefined)).toBe(true);
    expect(first.latestGenuine).toBeUndefined();
    expect(second.entries).toHaveLength(N);
    expect(second.fetched).toBe(0);
  }, 120_000);
});
