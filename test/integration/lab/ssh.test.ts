import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, LAB_SERVER_NAMES, type LabEnv } from '../../lab/env';
import { labSsh, sftpOf, sshCheck, sshExec, uniqueName, waitFor, type LabSsh } from './lab-ssh';

/**
 * Lines sshd (LogLevel VERBOSE) wrote about one client connection, found by its source port: only
 * what was logged after `from` (a byte offset taken before connecting), from that connection's
 * "Connection from" up to its first "closed"/"reset" line. The log is shared by every test file
 * of the run, and a later connection of another file may reuse the same source port.
 */
function sshdLinesFor(env: LabEnv, server: 'a' | 'b', localPort: number, from: number): string[] {
  const port = new RegExp(`${env.hostIp} port ${localPort}\\b`);
  const lines = readFileSync(env.servers[server].sshdLog).subarray(from).toString('utf8').split('\n');
  const start = lines.findIndex((l) => port.test(l) && /Connection from/.test(l));
  if (start < 0) return lines.filter((l) => port.test(l));
  const mine: string[] = [];
  for (const l of lines.slice(start)) {
    if (!port.test(l)) continue;
    mine.push(l);
    if (/closed|reset|Disconnected/i.test(l)) break;
  }
  return mine;
}
const logSize = (env: LabEnv, server: 'a' | 'b'): number => statSync(env.servers[server].sshdLog).size;
const AUTH_LINE = /Accepted|Failed|Postponed|Invalid user|authentication/i;

describe('lab: SSH to both servers', () => {
  let env: LabEnv;
  const open: LabSsh[] = [];
  beforeAll(() => {
    env = loadLabEnv();
  });
  afterAll(() => {
    for (const c of open) c.client.end();
  });

  it('refuses a wrong host key fingerprint before any authentication', async () => {
    const stats = { authCalls: 0, localPort: 0 };
    const from = logSize(env, 'a');
    const wrong = 'SHA256:' + createHash('sha256').update('not the host key').digest('base64').replace(/=+$/, '');
    await expect(labSsh(env, 'a', { fingerprint: wrong, stats })).rejects.toThrow(/verification failed/i);
    expect(stats.authCalls).toBe(0);
    // sshd saw the connection, and no authentication attempt on it
    await waitFor(
      'sshd to log the refused connection',
      async () => sshdLinesFor(env, 'a', stats.localPort, from).some((l) => /closed|reset|Connection from/.test(l)),
      10_000,
    );
    const lines = sshdLinesFor(env, 'a', stats.localPort, from);
    expect(lines.some((l) => /Connection from/.test(l))).toBe(true);
    expect(lines.filter((l) => AUTH_LINE.test(l))).toEqual([]);
    // Server B's fingerprint does not open server A either.
    await expect(labSsh(env, 'a', { fingerprint: env.servers.b.hostKeyFingerprint })).rejects.toThrow(/verification failed/i);
  });

  it.each(LAB_SERVER_NAMES)('server %s: pinned key login, exec exit code and stdout, its own dockerd', async (server) => {
    const stats = { authCalls: 0, localPort: 0 };
    const from = logSize(env, server);
    const c = await labSsh(env, server, { stats });
    open.push(c);
    expect(stats.authCalls).toBeGreaterThan(0);
    // Positive control for the "no auth attempt" check above: this login is in the sshd log.
    await waitFor(
      'sshd to log the accepted key',
      async () => sshdLinesFor(env, server, stats.localPort, from).some((l) => /Accepted publickey for ohadmin/.test(l)),
      10_000,
    );
    const r = await sshExec(
      c.client,
      'printf "%s|%s" "$(id -un)" "$(hostname -I 2>/dev/null || true)"; echo out-ok; echo err-ok >&2; exit 7',
    );
    expect(r.code).toBe(7);
    expect(r.stdout.toString()).toContain(`${env.admin.user}|`);
    expect(r.stdout.toString()).toContain('out-ok');
    expect(r.stderr.toString()).toContain('err-ok');
    // docker without DOCKER_HOST talks to this server's own dockerd, and so does sudo docker.
    expect((await sshCheck(c.client, 'echo "${DOCKER_HOST:-unset}"')).trim()).toBe('unset');
    const root = (await sshCheck(c.client, 'docker info --format "{{.DockerRootDir}}"')).trim();
    expect(root).toBe(`${env.stateDir}/${server}/docker`);
    expect((await sshCheck(c.client, 'sudo -n docker info --format "{{.DockerRootDir}}"')).trim()).toBe(root);
    const images = await sshCheck(c.client, 'docker images --format "{{.Repository}}:{{.Tag}}"');
    for (const img of env.images) expect(images).toContain(img);
  });

  it('SFTP upload to server a: stat and content match', async () => {
    const c = await labSsh(env, 'a');
    open.push(c);
    const sftp = await sftpOf(c.client);
    const data = randomBytes(256 * 1024 + 17);
    const path = `/home/${env.admin.user}/${uniqueName('sftp')}.bin`;
    await new Promise<void>((res, rej) => sftp.writeFile(path, data, { mode: 0o640 }, (e) => (e ? rej(e) : res())));
    const st = await new Promise<{ size: number; mode: number }>((res, rej) => sftp.stat(path, (e, s) => (e ? rej(e) : res(s))));
    expect(st.size).toBe(data.length);
    expect(st.mode & 0o777).toBe(0o640);
    const remoteSha = (await sshCheck(c.client, `sha256sum ${path}`)).split(' ')[0];
    expect(remoteSha).toBe(createHash('sha256').update(data).digest('hex'));
    await sshCheck(c.client, `rm -f ${path}`);
    sftp.end();
  });

  it('each server has its own /tmp, /var/servers, home and /etc/{apt,ssh,docker} (private mount namespaces)', async () => {
    const a = await labSsh(env, 'a');
    const b = await labSsh(env, 'b');
    open.push(a, b);
    const name = uniqueName('view');
    await sshCheck(a.client, `echo a > /tmp/${name} && echo a > ~/${name} && sudo -n mkdir -p /var/servers/${name}`);
    expect((await sshExec(b.client, `test -e /tmp/${name} || test -e ~/${name} || test -e /var/servers/${name}`)).code).toBe(1);
    expect(readFileSync(`${env.servers.a.root}/tmp/${name}`, 'utf8')).toBe('a\n');
    // root-owned config the app might touch (apt sources, sshd_config, daemon.json) is per server too
    for (const dir of ['/etc/apt/sources.list.d', '/etc/ssh', '/etc/docker']) {
      await sshCheck(a.client, `sudo -n touch ${dir}/${name}`);
      expect(existsSync(`${dir}/${name}`), `${dir}/${name} leaked to the host`).toBe(false);
      expect((await sshExec(b.client, `test -e ${dir}/${name}`)).code).toBe(1);
      await sshCheck(a.client, `sudo -n rm ${dir}/${name}`);
    }
    await sshCheck(a.client, `rm -f /tmp/${name} ~/${name} && sudo -n rmdir /var/servers/${name}`);
  });

  it('password user: password login, sudo needs the password (sudo -S on stdin), docker only via sudo', async () => {
    const stats = { authCalls: 0, localPort: 0 };
    const from = logSize(env, 'a');
    const c = await labSsh(env, 'a', { user: 'pass', stats });
    open.push(c);
    await waitFor(
      'sshd to log the accepted password',
      async () => sshdLinesFor(env, 'a', stats.localPort, from).some((l) => /Accepted password for ohpass/.test(l)),
      10_000,
    );
    const noPw = await sshExec(c.client, 'sudo -n true');
    expect(noPw.code).not.toBe(0);
    expect(noPw.stderr.toString()).toMatch(/password is required/);
    const wrong = await sshExec(c.client, "sudo -S -p '' true", 'definitely-wrong\n');
    expect(wrong.code).not.toBe(0);
    expect((await sshCheck(c.client, "sudo -S -p '' id -u", `${env.pass.password}\n`)).trim()).toBe('0');
    const direct = await sshExec(c.client, 'docker ps');
    expect(direct.code).not.toBe(0);
    expect(direct.stderr.toString()).toMatch(/permission denied/i);
    expect((await sshExec(c.client, "sudo -S -p '' docker ps -q", `${env.pass.password}\n`)).code).toBe(0);
    // The password user cannot log in with the admin's key, and the admin has no password login.
    await expect(labSsh({ ...env, pass: { ...env.pass, password: 'wrong-password' } }, 'a', { user: 'pass' })).rejects.toThrow(
      /authentication methods failed/i,
    );
  });
});
