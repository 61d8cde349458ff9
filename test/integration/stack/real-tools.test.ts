/**
 * The generated files against the real tools on this machine: docker-compose 1.29 `config`
 * (both compose variants), `caddy validate` / `caddy adapt` (every Caddyfile variant) and
 * `systemd-analyze verify` (the unit, with both compose spellings). No lab needed.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_PATHS, decommissionCaddyfile, stackCaddyfile } from '../../../src-main/services/stack/caddyfile';
import { renderComposeFile } from '../../../src-main/services/stack/compose-file';
import { renderDockerEnv, renderMisskeyConfig } from '../../../src-main/services/stack/misskey-config';
import type { StackModel } from '../../../src-main/services/stack/stack-model';
import { renderSystemdUnit } from '../../../src-main/services/stack/systemd-unit';
import { makeTempDir } from '../../support/temp-dir';
import { testModel } from '../../unit/stack/model-fixture';
import { runTool } from './run-tool';

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await makeTempDir();
});
afterAll(async () => {
  await tmp?.cleanup();
});

let n = 0;
async function freshDir(): Promise<string> {
  const d = join(tmp.dir, `case-${++n}`);
  await mkdir(d, { recursive: true });
  return d;
}

/** Writes the stack dir the way setup does (env file present: `config` needs it) and runs `docker-compose config`. */
async function composeConfig(model: StackModel, text = renderComposeFile(model)): Promise<{ code: number; stderr: string; doc: unknown }> {
  const dir = await freshDir();
  await mkdir(join(dir, '.config'));
  await writeFile(join(dir, 'compose.yml'), text);
  await writeFile(join(dir, '.config/docker.env'), renderDockerEnv(model), { mode: 0o600 });
  await writeFile(join(dir, '.config/default.yml'), renderMisskeyConfig(model), { mode: 0o600 });
  const r = await runTool('/usr/bin/docker-compose', ['-f', join(dir, 'compose.yml'), 'config'], { cwd: dir, env: { DOCKER_HOST: '' } });
  return { code: r.code, stderr: r.stderr, doc: r.code === 0 ? parse(r.stdout) : undefined };
}

interface NormalisedService {
  ports?: string[];
  networks?: Record<string, unknown>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  environment?: Record<string, string>;
}

describe('compose.yml passes docker-compose 1.29 `config`', () => {
  it('default variant: web on 127.0.0.1 only, db and redis only on the internal network, healthy-waits', async () => {
    const m = testModel();
    const r = await composeConfig(m);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.doc as { services: Record<string, NormalisedService>; networks: Record<string, { internal?: boolean }> };
    expect(doc.services.web!.ports).toEqual(['127.0.0.1:3000:3000/tcp']);
    expect(doc.services.db!.ports).toBeUndefined();
    expect(doc.services.redis!.ports).toBeUndefined();
    expect(Object.keys(doc.services.db!.networks ?? {})).toEqual(['internal_network']);
    expect(Object.keys(doc.services.redis!.networks ?? {})).toEqual(['internal_network']);
    expect(doc.networks.internal_network!.internal).toBe(true);
    expect(doc.services.web!.depends_on).toEqual({ db: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    // the env file really reached the db service (so it must exist, and it holds the model's password)
    expect(doc.services.db!.environment?.POSTGRES_PASSWORD).toBe(m.db.password);
    expect(doc.services.db!.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U $$POSTGRES_USER -d $$POSTGRES_DB']);
  });

  it('firewalld variant: no custom networks at all, still only web published on 127.0.0.1', async () => {
    const r = await composeConfig(testModel({ firewalld: true, webPort: 3456 }));
    expect(r.code, r.stderr).toBe(0);
    const doc = r.doc as { services: Record<string, NormalisedService>; networks?: unknown };
    expect(doc.networks).toBeUndefined();
    for (const s of Object.values(doc.services)) expect(s.networks).toBeUndefined();
    expect(doc.services.web!.ports).toEqual(['127.0.0.1:3456:3000/tcp']);
  });

  it('negative control: the validator does reject a broken file', async () => {
    const m = testModel();
    const r = await composeConfig(m, renderComposeFile(m).replace('    image: redis', '    imagee: redis'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/imagee/);
  });
});

/** `caddy validate` with HOME/XDG under the temp dir (validate provisions storage but never touches the network). */
async function caddy(cmd: 'validate' | 'adapt', text: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await freshDir();
  await writeFile(join(dir, 'Caddyfile'), text);
  const env = { HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  return runTool('caddy', [cmd, '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { cwd: dir, env });
}

describe('Caddyfile passes `caddy validate`', () => {
  const caddyOf = (dir: string, over: object = {}): StackModel['caddy'] => testModel({ caddy: { accessLog: { dir }, ...over } }).caddy;

  it.each([
    ['acme with e-mail, sign-in restricted', { tls: 'acme', email: 'admin@example.com', restrictSignIn: true }],
    ['acme without e-mail, unrestricted', { tls: 'acme' }],
    ['tls internal, sign-in restricted', { tls: 'internal', restrictSignIn: true }],
  ] as const)('%s', async (_name, over) => {
    const dir = await freshDir();
    const text = stackCaddyfile(testModel({ caddy: { ...over, accessLog: { dir } } }), { storageDir: join(dir, 'storage') });
    const r = await caddy('validate', text);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Valid configuration/);
  });

  it.each(['acme', 'internal'] as const)('decommission variant (%s)', async (tls) => {
    const dir = await freshDir();
    const text = decommissionCaddyfile('misskey.example.com', { caddy: caddyOf(dir, { tls }), storageDir: join(dir, 'storage') });
    const r = await caddy('validate', text);
    expect(r.code, r.stderr).toBe(0);
  });

  it('negative control: validate rejects an unknown matcher', async () => {
    const dir = await freshDir();
    const text = stackCaddyfile(testModel({ caddy: { restrictSignIn: true, accessLog: { dir } } })).replace(
      'respond @blocked',
      'respond @nosuch',
    );
    const r = await caddy('validate', text);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/nosuch/);
  });

  it('the adapted JSON blocks exactly the sign-in paths for clients outside the allowed ranges', async () => {
    const dir = await freshDir();
    const m = testModel({ caddy: { restrictSignIn: true, accessLog: { dir } } });
    const r = await caddy('adapt', stackCaddyfile(m));
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.stringify(JSON.parse(r.stdout));
    expect(json).toContain(JSON.stringify({ path: [...SIGN_IN_PATHS] }).slice(1, -1));
    expect(json).toContain(JSON.stringify({ not: [{ remote_ip: { ranges: [...m.caddy.signInAllowedRanges] } }] }).slice(1, -1));
    expect(json).toMatch(/"status_code":403/);
  });
});

describe('misskey-stack.service passes `systemd-analyze verify`', () => {
  it.each([
    ['v2', '/usr/local/bin/docker'],
    ['v1', '/usr/bin/docker-compose'],
  ] as const)('compose %s (%s)', async (kind, path) => {
    const r0 = await runTool('test', ['-x', path]);
    expect(r0.code, `${path} must exist for verify to pass`).toBe(0);
    const dir = await freshDir();
    const unit = join(dir, 'misskey-stack.service');
    await writeFile(unit, renderSystemdUnit(testModel(), { kind, path }));
    await chmod(unit, 0o644);
    const r = await runTool('systemd-analyze', ['verify', unit]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toBe('');
  });

  it('negative control: verify complains about a missing compose binary', async () => {
    const dir = await freshDir();
    const unit = join(dir, 'misskey-stack.service');
    await writeFile(unit, renderSystemdUnit(testModel(), { kind: 'v1', path: '/nonexistent/docker-compose' }));
    const r = await runTool('systemd-analyze', ['verify', unit]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not executable/);
  });
});
