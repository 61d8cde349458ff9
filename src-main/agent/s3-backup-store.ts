import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BackupSink } from '../services/backup-format';

/** Multipart chunk and parallelism per part object (performance §3: 8 MiB × 4 stays near 160 MiB RSS). */
export const UPLOAD_CHUNK = 8 * 1024 * 1024;
export const UPLOAD_QUEUE = 2;

/** The job's view of one bucket folder `<prefix><serverId>/`. */
export class S3BackupStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    /** `<prefix><serverId>/` — everything this server writes is below it. */
    readonly base: string,
  ) {}

  /** Every object key below the base, all pages. Throws on any listing error (callers refuse then). */
  async listKeys(signal?: AbortSignal): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.base, ...(token ? { ContinuationToken: token } : {}) }),
        signal ? { abortSignal: signal } : {},
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      if (page.IsTruncated && !page.NextContinuationToken) throw new Error('The listing is truncated without a continuation token');
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** Aborts every multipart upload below the base (only one run at a time holds the lock, so any is stale). */
  async abortStaleUploads(signal?: AbortSignal): Promise<number> {
    let n = 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.base,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(idMarker ? { UploadIdMarker: idMarker } : {}),
        }),
        signal ? { abortSignal: signal } : {},
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
        n++;
      }
      if (!page.IsTruncated) return n;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async getObject(key: string, signal?: AbortSignal): Promise<Uint8Array> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), signal ? { abortSignal: signal } : {});
    if (!r.Body) throw new Error(`Empty body for ${key}`);
    return r.Body.transformToByteArray();
  }

  async deleteKeys(keys: readonly string[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const r = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        signal ? { abortSignal: signal } : {},
      );
      const err = r.Errors?.[0];
      if (err)
        throw Object.assign(new Error(`${err.Code ?? 'Error'}: ${err.Message ?? ''} (${err.Key ?? ''})`), { name: err.Code ?? 'Error' });
    }
  }

  async putSmall(key: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
        ContentMD5: createHash('md5').update(bytes).digest('base64'),
        ContentType: 'application/octet-stream',
      }),
      signal ? { abortSignal: signal } : {},
    );
  }

  /**
   * A BackupSink writing one backup's folder: each part streamed as a multipart upload (aborted if
   * the part fails), the manifest with a single Content-MD5-checked PUT — last, by the writer.
   */
  sink(backupId: string, opts: { signal?: AbortSignal; onUploaded?: (bytes: number) => void }): BackupSink {
    const folder = `${this.base}${backupId}/`;
    return {
      writePart: async (name: string, body: Readable) => {
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: folder + name, Body: body, ContentType: 'application/octet-stream' },
          partSize: UPLOAD_CHUNK,
          queueSize: UPLOAD_QUEUE,
          leavePartsOnError: false,
        });
        let last = 0;
        upload.on('httpUploadProgress', (p) => {
          if (p.loaded !== undefined && p.loaded > last) {
            opts.onUploaded?.(p.loaded - last);
            last = p.loaded;
          }
        });
        const abort = () => void upload.abort().catch(() => undefined);
        opts.signal?.addEventListener('abort', abort, { once: true });
        try {
          await upload.done();
        } finally {
          opts.signal?.removeEventListener('abort', abort);
        }
      },
      writeManifest: async (name: string, bytes: Uint8Array) => {
        await this.putSmall(folder + name, bytes, opts.signal);
        opts.onUploaded?.(bytes.length);
      },
    };
  }
}
