import { execFileSync } from 'node:child_process';
import { S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldersFromKeys, planRetention, type ListedFolder } from '../../../src-main/agent/retention';
import { applyRetention } from '../../../src-main/agent/run-backup';
import { S3BackupStore } from '../../../src-main/agent/s3-backup-store';
import { nextCronRun, parseStatus } from '../../../src-main/services/backup-job/backup-job-service';
import { renderCronFile, renderRunnerScript } from '../../../src-main/services/backup-job/job-files';
import { jobConfigSchema, parseProgressLine, type JobConfig } from '../../../src-main/services/backup-job/job-layout';
import { generateServerSigningKey } from '../../../src-main/services/pgp/key-generate';

const id = (n: number) => `20261126T0300${String(n % 60).padStart(2, '0')}Z-${String(n).padStart(8, '0')}`;

const config = (over: Partial<JobConfig['stack']> = {}): JobConfig =>
  jobConfigSchema.parse({
    version: 1,
    serverId: 'misskey-example-com',
    stack: {
      dir: '/var/servers/docker/misskey',
      compose: { kind: 'v2', path: '/usr/bin/docker' },
      dbName: 'misskey',
      dbUser: 'misskey',
      ...over,
    },
    image: 'node:22-bookworm-slim',
    storage: {
      endpoint: 'https://s3.example.com',
      region: 'auto',
      bucket: 'b',
      prefix: 'ohitori/',
      forcePathStyle: true,
      accessKeyId: 'k',
      secretAccessKey: 's',
    },
    retention: { keep: 3 },
  });

describe('retention planner (G17)', () => {
  const folderArb = fc.record({
    n: fc.integer({ min: 1, max: 59 }),
    hasManifest: fc.boolean(),
    genuine: fc.option(fc.boolean(), { nil: undefined }),
  });

  it('keeps the newest `keep` genuine backups and the current one, deletes only older genuine ones and abandoned folders older than the run', () => {
    fc.assert(
      fc.property(fc.uniqueArray(folderArb, { selector: (f) => f.n, maxLength: 30 }), fc.integer({ min: 1, max: 10 }), (raw, keep) => {
        const folders: ListedFolder[] = raw.map((f) => ({
          backupId: id(f.n),
          keys: [],
          hasManifest: f.hasManifest,
          ...(f.genuine !== undefined ? { genuine: f.genuine } : {}),
        }));
        const genuine = folders
          .filter((f) => f.hasManifest && f.genuine === true)
          .map((f) => f.backupId)
          .sort()
          .reverse();
        const current = genuine[0] ?? id(60);
        const plan = planRetention(folders, { keep, current });
        // The newest genuine backup and the current run are never deleted.
        if (genuine[0]) expect(plan.delete).not.toContain(genuine[0]);
        expect(plan.delete).not.toContain(current);
        // Manifests that did not verify are never deleted and never kept as genuine.
        for (const f of folders.filter((x) => x.hasManifest && x.genuine !== true)) {
          expect(plan.delete).not.toContain(f.backupId);
          expect(plan.keep).not.toContain(f.backupId);
          expect(plan.flagged).toContain(f.backupId);
        }
        expect(plan.keep).toEqual(genuine.slice(0, keep));
        for (const g of genuine.slice(keep)) expect(plan.delete).toContain(g);
        for (const f of folders.filter((x) => !x.hasManifest)) expect(plan.delete.includes(f.backupId)).toBe(f.backupId < current);
      }),
    );
  });

  it('refuses a policy that keeps nothing', () => {
    expect(() => planRetention([], { keep: 0, current: id(1) })).toThrow(RangeError);
  });

  it('groups listed keys into folders below the server base only', () => {
    const base = 'ohitori/srv/';
    const f = foldersFromKeys(base, [
      `${base}${id(1)}/part-00000.pgp`,
      `${base}${id(1)}/manifest.json.pgp`,
      `${base}${id(2)}/part-00000.pgp`,
      'ohitori/other/x/manifest.json.pgp',
      `${base}signing-key.asc`,
    ]);
    expect(f).toEqual([
      { backupId: id(1), keys: [`${base}${id(1)}/part-00000.pgp`, `${base}${id(1)}/manifest.json.pgp`], hasManifest: true },
      { backupId: id(2), keys: [`${base}${id(2)}/part-00000.pgp`], hasManifest: false },
    ]);
  });

  it('refuses to delete anything when the listing fails (G18)', async () => {
    const client = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    });
    const lines: string[] = [];
    const key = await generateServerSigningKey({ serverId: 'srv' });
    const r = await applyRetention(
      new S3BackupStore(client, 'b', 'ohitori/srv/'),
      'ohitori/srv/',
      id(5),
      2,
      key.publicKey,
      new AbortController().signal,
      (l) => lines.push(l),
    );
    client.destroy();
    expect(r).toEqual({ state: 'refused', deleted: [], reason: 'listing-failed' });
    expect(lines.join('\n')).toMatch(/retention refused: the listing failed/);
  });
});

describe('runner script and schedule', () => {
  it('is valid bash and names only checked values', () => {
    const script = renderRunnerScript(config(), 'node:22-bookworm-slim');
    execFileSync('bash', ['-n'], { input: script });
    expect(script).toContain('COMPOSE=(/usr/bin/docker compose -f /var/servers/docker/misskey/compose.yml)');
    expect(script).toContain('pg_dump -U "$DB_USER" -Fc -Z0 "$DB_NAME" </dev/null');
  });

  it('refuses values that would need quoting', () => {
    expect(() => renderRunnerScript({ ...config(), stack: { ...config().stack, dir: '/srv/$(reboot)' } }, 'node:22')).toThrow(/Refusing/);
    expect(() => renderRunnerScript({ ...config(), stack: { ...config().stack, dbUser: 'x; rm' } }, 'node:22')).toThrow(/Refusing/);
    expect(() => renderRunnerScript(config(), 'node:22 --privileged')).toThrow(/Refusing/);
  });

  it('escapes % for cron', () => {
    const line = renderCronFile()
      .split('\n')
      .find((l) => l.startsWith('0 3 '))!;
    expect(line).toContain('$((RANDOM \\% 1800))');
    expect(line.replace(/\\%/g, '')).not.toContain('%');
  });
});

describe('progress lines and status', () => {
  it('parses the runner and job lines, and nothing else', () => {
    expect(parseProgressLine('@stage dump')).toEqual({ kind: 'stage', stage: 'dump' });
    expect(parseProgressLine('@bytes 10 200')).toEqual({ kind: 'bytes', done: 10, total: 200 });
    expect(parseProgressLine('@bytes 10 -')).toEqual({ kind: 'bytes', done: 10 });
    expect(parseProgressLine('@error STORAGE_UNREACHABLE could not connect')).toEqual({
      kind: 'error',
      code: 'STORAGE_UNREACHABLE',
      message: 'could not connect',
    });
    expect(parseProgressLine('@done 20261126T030000Z-00000001')).toEqual({ kind: 'done', backupId: '20261126T030000Z-00000001' });
    expect(parseProgressLine('@stage Dump; rm')).toBeUndefined();
    expect(parseProgressLine('dump: 10 bytes')).toBeUndefined();
  });

  it('reads the status script output, newest run first, skipping torn lines', () => {
    const run = (n: number, result: string) =>
      JSON.stringify({
        startedAt: `2026-11-2${n}T03:00:00Z`,
        finishedAt: `2026-11-2${n}T03:01:30Z`,
        result,
        stage: result === 'ok' ? 'done' : 'dump',
        code: '',
        trigger: 'timer',
        job: result === 'ok' ? { backupId: id(n), uploadedBytes: 1000, retention: { state: 'applied', deleted: ['x'] } } : null,
      });
    const s = parseStatus(
      ['@installed yes', '@scheduler cron', '@tz +0900', '@runs', run(1, 'ok'), '{"torn', run(2, 'failed'), ''].join('\n'),
      new Date('2026-11-26T12:00:00Z'),
    );
    expect(s.installed).toBe(true);
    expect(s.scheduler).toBe('cron');
    expect(s.running).toBe(false);
    expect(s.runs.map((r) => r.result)).toEqual(['failed', 'ok']);
    expect(s.runs[1]).toMatchObject({ durationSec: 90, backupId: id(1), uploadedBytes: 1000, retention: 'applied', deleted: 1 });
    expect(s.nextRun).toBe('2026-11-26T18:00:00.000Z'); // 03:00 +0900 on the 27th
  });

  it('computes the next 03:00 in the server time zone', () => {
    expect(nextCronRun(new Date('2026-11-26T02:59:00Z'), '+0000')).toBe('2026-11-26T03:00:00.000Z');
    expect(nextCronRun(new Date('2026-11-26T03:00:00Z'), '+0000')).toBe('2026-11-27T03:00:00.000Z');
    expect(nextCronRun(new Date('2026-11-26T10:00:00Z'), '-0500')).toBe('2026-11-27T08:00:00.000Z');
  });
});
