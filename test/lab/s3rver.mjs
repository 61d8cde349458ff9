// S3 stand-in for the lab: s3rver 3.7.1 as a long-running process (started by up.sh under
// `node --openssl-legacy-provider`, which its ListObjectsV2 continuation tokens need on Node >= 17).
// Usage: node --openssl-legacy-provider test/lab/s3rver.mjs --address 10.231.0.1 --port 9000 --directory DIR
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
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
const { address, port } = await server.run();
console.log(`s3rver listening on http://${address}:${port} (data in ${values.directory})`);
const stop = () =>
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
