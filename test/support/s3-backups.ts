import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createMessage, type PrivateKey, type PublicKey } from 'openpgp';
import { bufferEntry, type ArchiveEntry } from '../../src-main/services/backup-format/archive';
import { writeBackup, type BackupSink } from '../../src-main/services/backup-format/backup-writer';
import { backupFolder, backupIdFor, MANIFEST_NAME } from '../../src-main/services/backup-format/format';
import { canonicalJson, type BackupManifest } from '../../src-main/services/backup-format/manifest';
import { InlinePartRunner } from '../../src-main/services/backup-format/part-runner';
import type { LabEnv } from '../lab/env';

/** A real PostgreSQL 15 custom-format dump (pg_dump -Fc of a small database with Japanese text). */
export const PG15_DUMP = readFileSync(join(import.meta.dirname, '../integration/backups/misskey-pg15.dump'));

export function labS3(env: LabEnv): S3Client {
  return new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Deletes every object, then the bucket. */
export async function dropBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 })).catch(() => undefined);
    const keys = (page?.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
}

/** What the server job's S3 sink does: parts first, the manifest last. Parts here are small, so buffered. */
export function s3Sink(s3: S3Client, bucket: string, folderOf: () => string): BackupSink {
  return {
    async writePart(name, body) {
      const chunks: Buffer[] = [];
      for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: folderOf() + name, Body: Buffer.concat(chunks) }));
    },
    async writeManifest(name, bytes) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: folderOf() + name, Body: bytes }));
    },
  };
}

export interface MakeBackup {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly serverId: string;
  readonly sequence: number;
  readonly at: Date;
  readonly recipients: readonly PublicKey[];
  readonly signingKey: PrivateKey;
  readonly dump?: Buffer;
  readonly postgres?: string;
  /** More archive members (e.g. a large file, so a verify takes long enough to cancel). */
  readonly extra?: readonly ArchiveEntry[];
  readonly partSize?: number;
  /** Row counts for the manifest's `tables`. */
  readonly tables?: Readonly<Record<string, number>>;
}

/** Writes one backup with the real format library into the bucket; returns its manifest. */
export async function makeBackup(o: MakeBackup): Promise<BackupManifest> {
  const folder = backupFolder(o.prefix, o.serverId, backupIdFor(o.at, o.sequence));
  const { manifest } = await writeBackup({
    serverId: o.serverId,
    sequence: o.sequence,
    versions: { misskey: '2025.4.0', postgres: o.postgres ?? '15.8' },
    entries: [
      bufferEntry('db/misskey.dump', o.dump ?? PG15_DUMP),
      bufferEntry('files/写真.png', Buffer.alloc(50_000, 7)),
      bufferEntry('config/default.yml', 'url: https://example.test/\n'),
      ...(o.extra ?? []),
    ],
    recipients: o.recipients,
    signingKey: o.signingKey,
    sink: s3Sink(o.s3, o.bucket, () => folder),
    runner: new InlinePartRunner(1),
    // Small parts, so every backup has several (part boundaries are where readers go wrong).
    partSize: o.partSize ?? 4 * 1024,
    ...(o.tables ? { tables: () => o.tables } : {}),
    now: () => o.at,
  });
  return manifest;
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Flips one byte of an object in place (a bit rot or a tampering bucket writer). */
export async function flipByte(s3: S3Client, bucket: string, key: string, offset: number): Promise<void> {
  const b = await getObject(s3, bucket, key);
  b[offset % b.length]! ^= 0x01;
  await putObject(s3, bucket, key, b);
}

/** Copies a whole backup folder under another backup id (an old backup replayed under a new name). */
export async function copyFolder(s3: S3Client, bucket: string, from: string, to: string): Promise<void> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: from }));
  for (const o of page.Contents ?? []) {
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: to + o.Key!.slice(from.length), CopySource: `${bucket}/${encodeURI(o.Key!)}` }),
    );
  }
}

/**
 * A "backup" forged by someone holding only public keys: parts encrypted to the desktop key (any
 * bucket writer can do that) and a manifest that is a bare literal message, since it cannot be
 * signed without the server's private key.
 */
export async function writeUnsignedManifest(s3: S3Client, bucket: string, folder: string, manifest: BackupManifest): Promise<void> {
  const message = await createMessage({
    binary: new TextEncoder().encode(canonicalJson(manifest)),
    filename: 'manifest.json',
    format: 'binary',
  });
  await putObject(s3, bucket, folder + MANIFEST_NAME, message.write() as Uint8Array);
}

export const bodyOf = (b: Buffer): Readable => Readable.from([b]);
