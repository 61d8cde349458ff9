// S3 stand-in for the lab: s3rver 3.7.1 as a long-running process (started by up.sh under
// `node --openssl-legacy-provider`, which its ListObjectsV2 continuation tokens need on Node >= 17).
// Usage: node --openssl-legacy-provider test/lab/s3rver.mjs --address 10.231.0.1 --port 9000 --directory DIR
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '9000' },
    directory: { type: 'string' },
  },
});
if (!values.directory) throw new Error('--directory is required');
mkdirSync(values.directory, { recursive: true });

const server = new S3rver({
  address: values.address,
  port: Number(values.port),
  directory: values.directory,
  silent: true,
  resetOnClose: false,
});
// s3rver 3.7.1 answers ListMultipartUploads and AbortMultipartUpload with 501/405. The backup job
// needs both (a killed run's upload must be found and aborted), so the lab adds them here, on
// s3rver's own on-disk layout (<dir>/<bucket>/._S3rver_uploads/<uploadId>/{key,<part>…}), following
// the S3 API's request and response shapes. Markers and paging are not implemented (<= 1000 uploads).
const uploadsDir = (bucket) => join(values.directory, bucket, '._S3rver_uploads');
const xmlEscape = (v) =>
  String(v).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
server.middleware.unshift(async (ctx, next) => {
  const url = new URL(ctx.url, 'http://lab');
  const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (ctx.method === 'GET' && segs.length === 1 && url.searchParams.has('uploads')) {
    const prefix = url.searchParams.get('prefix') ?? '';
    const found = [];
    for (const id of await readdir(uploadsDir(segs[0])).catch(() => [])) {
      const key = await readFile(join(uploadsDir(segs[0]), id, 'key'), 'utf8').catch(() => undefined);
      if (key === undefined || !key.startsWith(prefix)) continue;
      const st = await stat(join(uploadsDir(segs[0]), id));
      found.push({ key, id, initiated: st.mtime.toISOString() });
    }
    found.sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key < b.key ? -1 : 1));
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${xmlEscape(segs[0])}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${xmlEscape(prefix)}</Prefix>` +
      '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>' +
      found
        .map(
          (u) =>
            `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
        )
        .join('') +
      '</ListMultipartUploadsResult>';
    return;
  }
  if (ctx.method === 'DELETE' && segs.length >= 2 && url.searchParams.has('uploadId')) {
    const id = url.searchParams.get('uploadId') ?? '';
    const dir = join(uploadsDir(segs[0]), id);
    const key = /^[0-9a-f]{32}$/.test(id) ? await readFile(join(dir, 'key'), 'utf8').catch(() => undefined) : undefined;
    if (key !== segs.slice(1).join('/')) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>';
      return;
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  return next();
});
const { address, port } = await server.run();
console.log(`s3rver listening on http://${address}:${port} (data in ${values.directory})`);
const stop = () =>
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
