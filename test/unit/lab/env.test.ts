import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { labEnvFromRecord, loadLabEnv, parseEnvFile } from '../../lab/env';

const SAMPLE = `# comment
OHLAB_STATE_DIR=/var/lib/ohitori-lab
OHLAB_RUN_DIR=/run/ohitori-lab
OHLAB_LOG_DIR=/var/lib/ohitori-lab/log
OHLAB_BRIDGE=ohlab0
OHLAB_HOST_IP=10.231.0.1
OHLAB_SERVERS="a b"
OHLAB_ADMIN_USER=ohadmin
OHLAB_ADMIN_KEY=/k
OHLAB_ADMIN_KEY_PUB=/k.pub
OHLAB_PASS_USER=ohpass
OHLAB_PASS_PASSWORD=pw=with=equals
${['A', 'B']
  .map(
    (s, i) => `OHLAB_${s}_IP=10.231.0.${i + 2}
OHLAB_${s}_SSH_PORT=22
OHLAB_${s}_HOST_KEY_FP=SHA256:abc+/${s}
OHLAB_${s}_HOST_KEY_PUB=/h${s}
OHLAB_${s}_NETNS=ohlab-${s.toLowerCase()}
OHLAB_${s}_MOUNTNS=/run/ohitori-lab/mnt-${s.toLowerCase()}
OHLAB_${s}_DOCKER_HOST=unix:///run/ohitori-lab/${s.toLowerCase()}/docker.sock
OHLAB_${s}_ROOT=/var/lib/ohitori-lab/${s.toLowerCase()}/root
OHLAB_${s}_DOMAIN=${s.toLowerCase()}.ohitori.test
OHLAB_${s}_SSHD_LOG=/l${s}`,
  )
  .join('\n')}
OHLAB_RESTORE_DOMAIN=misskey.ohitori.test
OHLAB_CADDY_CA=/ca.crt
OHLAB_S3_ENDPOINT=http://10.231.0.1:9000
OHLAB_S3_REGION=us-east-1
OHLAB_S3_ACCESS_KEY=S3RVER
OHLAB_S3_SECRET_KEY=S3RVER
OHLAB_S3_FORCE_PATH_STYLE=true
OHLAB_REGISTRY=10.231.0.1:5000
OHLAB_IMAGES="postgres:15-alpine redis:7-alpine"
OHLAB_WEB_IMAGE_KIND=double
OHLAB_CHROMIUM=/usr/bin/chromium
`;

describe('lab env loader', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('parses shell-style lines into a typed object', () => {
    const env = labEnvFromRecord(parseEnvFile(SAMPLE));
    expect(env.pass.password).toBe('pw=with=equals');
    expect(env.servers.b).toMatchObject({ ip: '10.231.0.3', sshPort: 22, hostKeyFingerprint: 'SHA256:abc+/B', domain: 'b.ohitori.test' });
    expect(env.s3.forcePathStyle).toBe(true);
    expect(env.images).toEqual(['postgres:15-alpine', 'redis:7-alpine']);
    expect(env.webImageKind).toBe('double');
  });

  it('names the missing key', () => {
    const raw = parseEnvFile(SAMPLE);
    delete raw.OHLAB_B_HOST_KEY_FP;
    expect(() => labEnvFromRecord(raw)).toThrow(/OHLAB_B_HOST_KEY_FP/);
  });

  it('says the lab is not up when lab.env is missing, or stale (namespaces gone)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohlab-env-'));
    dirs.push(dir);
    expect(() => loadLabEnv(join(dir, 'lab.env'))).toThrow(/lab is not up: run npm run lab:up/);
    const stale = SAMPLE.replaceAll('/run/ohitori-lab/mnt-', `${dir}/no-such-mnt-`);
    writeFileSync(join(dir, 'lab.env'), stale);
    expect(() => loadLabEnv(join(dir, 'lab.env'))).toThrow(/lab is not up: run npm run lab:up .*stale/);
  });
});
