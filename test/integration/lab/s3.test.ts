import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { labSsh, sshCheck, sshExec, uniqueName } from './lab-ssh';

/** S3 client for the lab's s3rver (path style: s3rver has no virtual-host buckets on an IP). */
function labS3(env: LabEnv): S3Client {
  return new S3Client({
    endpoint: env.s3.endpoint,
    region: env.s3.region,
    forcePathStyle: env.s3.forcePathStyle,
    credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
  });
}

describe('lab: s3rver object storage', () => {
  let env: LabEnv;
  let s3: S3Client;
  const bucket = uniqueName('ohlab-s3');
  beforeAll(async () => {
    env = loadLabEnv();
    s3 = labS3(env);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    if (!s3) return;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  it('multipart upload (3 parts) / list / head / download round trip with matching sha256', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 123);
    const sha = createHash('sha256').update(data).digest('hex');
    const key = 'backups/2026/11/part-0001.pgp';
    const parts: number[] = [];
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: Readable.from([data.subarray(0, 7e6), data.subarray(7e6)]), Metadata: { sha256: sha } },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    upload.on('httpUploadProgress', (p) => p.part !== undefined && parts.push(p.part));
    await upload.done();
    expect(new Set(parts).size).toBeGreaterThanOrEqual(2);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'backups/' }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([[key, data.length]]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(data.length);
    expect(head.Metadata?.sha256).toBe(sha);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(sha);
  });

  it('paginates ListObjectsV2 (needs --openssl-legacy-provider on s3rver)', async () => {
    for (let i = 0; i < 5; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `page/${i}`, Body: `x${i}` }));
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'page/', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(r.Contents ?? []).map((o) => o.Key!));
      token = r.NextContinuationToken;
    } while (token);
    expect(seen).toEqual(['page/0', 'page/1', 'page/2', 'page/3', 'page/4']);
  });

  it('a container on a server (like the backup job in node:22-bookworm-slim) reaches S3 on the bridge', async () => {
    const c = await labSsh(env, 'a');
    const net = uniqueName('ohlab-s3net');
    try {
      await sshCheck(c.client, `docker network create ${net} >/dev/null`);
      const js = `fetch(process.argv[1] + '/${bucket}/backups/2026/11/part-0001.pgp', { method: 'HEAD' }).then(r => console.log(r.status, r.headers.get('content-length')))`;
      const out = await sshCheck(
        c.client,
        `docker run --rm --network ${net} node:22-bookworm-slim node -e "${js}" ${env.s3.endpoint} </dev/null`,
      );
      expect(out.trim()).toBe(`200 ${12 * 1024 * 1024 + 123}`);
    } finally {
      await sshExec(c.client, `docker network rm ${net}`);
      c.client.end();
    }
  });
});
