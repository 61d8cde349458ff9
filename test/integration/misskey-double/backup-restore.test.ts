/**
 * The double keeps its state where Misskey does (PostgreSQL + /misskey/files), so a real backup
 * carries it: `pg_dump -Fc` of server A's db and a tar of A's files, restored with `pg_restore`
 * into a fresh stack on server B, give an identical fingerprint, and misskey-js sees the same
 * instance on B (same tokens, relays, files).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { api } from 'misskey-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadLabEnv } from '../../lab/env';
import { buildDoubleImage, DoubleStack, run } from './lab-stack';

let a: DoubleStack;
let b: DoubleStack;

beforeAll(async () => {
  const lab = loadLabEnv();
  const [imgA, imgB] = await Promise.all([buildDoubleImage(lab, 'a'), buildDoubleImage(lab, 'b')]);
  // A restore keeps the domain: both stacks serve the lab's restore domain.
  a = new DoubleStack(lab, 'a', imgA, { setupPassword: 'pw-a', domain: lab.restoreDomain });
  b = new DoubleStack(lab, 'b', imgB, { setupPassword: 'pw-b', domain: lab.restoreDomain });
  await Promise.all([a.up(), b.up()]);
});

afterAll(async () => {
  await Promise.all([a?.down(), b?.down()]);
});

it('pg_dump on A → pg_restore on B (+ files) restores the instance exactly', async () => {
  const admin = await new api.APIClient({ origin: a.url }).request('admin/accounts/create', {
    username: 'admin',
    password: 'adminpass123',
    setupPassword: 'pw-a',
  });
  const cliA = new api.APIClient({ origin: a.url, credential: admin.token });
  await a.exec('web', ['node', '/double/server.mjs', 'seed', '--users', '3', '--notes', '300', '--files', '4']);
  const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + (i >> 8)) % 256);
  const file = await cliA.request('drive/files/create', { file: new Blob([bytes]), name: 'バックアップ テスト.bin' });
  await cliA.request('notes/create', { text: '今日は良い天気 :blobcat: 🍣', fileIds: [file.id] });
  await cliA.request('admin/update-meta', { name: 'ひとりのサーバー', cacheRemoteFiles: false });

  const before = await a.fingerprint();
  expect(before.tables.note?.count).toBeGreaterThanOrEqual(301);
  expect(before.files.count).toBeGreaterThanOrEqual(6);
  expect((await b.fingerprint()).sha256).not.toBe(before.sha256);

  // -T: no TTY, so the binary custom-format dump is byte-intact.
  const dump = await a.exec('db', ['pg_dump', '-Fc', '-U', 'misskey', 'misskey']);
  expect(dump.subarray(0, 5).toString('latin1')).toBe('PGDMP');
  const filesTar = await a.exec('web', ['tar', '-C', '/misskey/files', '-cf', '-', '.']);

  expect((await b.compose(['stop', 'web'])).code).toBe(0);
  await b.exec('db', ['pg_restore', '--clean', '--if-exists', '--no-owner', '-U', 'misskey', '-d', 'misskey'], dump);
  const untar = await run('tar', ['-C', join(b.hostDir, 'files'), '-xpf', '-'], { stdin: filesTar });
  expect(untar.code, untar.stderr).toBe(0);
  expect((await b.compose(['start', 'web'])).code).toBe(0);
  await b.waitHealthy();

  const after = await b.fingerprint();
  expect(after.tables).toEqual(before.tables);
  expect(after.files).toEqual(before.files);
  expect(after.sha256).toBe(before.sha256);

  // The restored instance answers like the original: A's token, settings, relays and bytes.
  const cliB = new api.APIClient({ origin: b.url, credential: admin.token });
  expect((await cliB.request('i', {})).id).toBe(admin.id);
  expect((await cliB.request('admin/meta', {})).name).toBe('ひとりのサーバー');
  expect(await cliB.request('admin/relays/list', {})).toEqual(await cliA.request('admin/relays/list', {}));
  const served = Buffer.from(await (await fetch(`${b.url}${new URL(file.url).pathname}`)).arrayBuffer());
  expect(createHash('md5').update(served).digest('hex')).toBe(file.md5);
  expect(((await new api.APIClient({ origin: b.url }).request('meta', {})) as { requireSetup: boolean }).requireSetup).toBe(false);
});
