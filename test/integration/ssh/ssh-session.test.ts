import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyStore } from '../../../src-main/services/ssh/host-key-store';
import { connectSsh, type SshTarget } from '../../../src-main/services/ssh/ssh-connect';
import type { SshSession } from '../../../src-main/services/ssh/ssh-session';
import { readRemoteFile, writeRemoteFile } from '../../../src-main/services/ssh/remote-files';
import { readLabEnv } from '../../support/lab-env';
import { makeTempDir } from '../../support/temp-dir';

describe('SSH against the lab servers (real sshd)', () => {
  let env: Record<string, string>;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let admin: SshTarget;
  let session: SshSession;

  beforeAll(async () => {
    env = await readLabEnv();
    ({ dir: dataDir, cleanup } = await makeTempDir());
    admin = {
      host: env.OHLAB_A_IP!,
      port: 22,
      user: env.OHLAB_ADMIN_USER!,
      auth: { kind: 'key', privateKey: await readFile(env.OHLAB_ADMIN_KEY!) },
    };
    const asked: string[] = [];
    session = await connectSsh(admin, {
      hostKeys: new HostKeyStore(dataDir),
      confirmHostKey: async (i) => (asked.push(i.fingerprint), true),
    });
    expect(asked).toEqual([env.OHLAB_A_HOST_KEY_FP]);
  });
  afterAll(async () => {
    session?.close();
    await cleanup?.();
  });

  it('asks about an unknown host key, pins it when accepted, and does not ask again', async () => {
    const store = new HostKeyStore(dataDir);
    expect(await store.get(admin.host, 22)).toMatchObject({ fingerprint: env.OHLAB_A_HOST_KEY_FP, algorithm: 'ssh-ed25519' });
    let asked = 0;
    const again = await connectSsh(admin, { hostKeys: store, confirmHostKey: async () => (asked++, true) });
    expect((await again.check(['id', '-un'])).stdout.trim()).toBe(env.OHLAB_ADMIN_USER);
    again.close();
    expect(asked).toBe(0);
  });

  it('refuses a rejected host key without trying to sign in', async () => {
    const t = await makeTempDir();
    let attempts = 0;
    await expect(
      connectSsh(admin, { hostKeys: new HostKeyStore(t.dir), confirmHostKey: async () => false, onAuthAttempt: () => attempts++ }),
    ).rejects.toMatchObject({ code: 'HOST_KEY_REJECTED' });
    expect(attempts).toBe(0);
    expect(await new HostKeyStore(t.dir).get(admin.host, 22)).toBeUndefined();
    await t.cleanup();
  });

  it('stops at a changed host key with zero authentication attempts', async () => {
    const t = await makeTempDir();
    const store = new HostKeyStore(t.dir);
    // Server B's real key pinned for server A's address: exactly what a swapped server looks like.
    await store.pin(admin.host, 22, { algorithm: 'ssh-ed25519', fingerprint: env.OHLAB_B_HOST_KEY_FP! });
    let attempts = 0;
    let asked = 0;
    const err = await connectSsh(admin, {
      hostKeys: store,
      confirmHostKey: async () => (asked++, true),
      onAuthAttempt: () => attempts++,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'HOST_KEY_CHANGED',
      details: { expected: env.OHLAB_B_HOST_KEY_FP, received: env.OHLAB_A_HOST_KEY_FP },
    });
    expect(attempts).toBe(0);
    expect(asked).toBe(0);
    await t.cleanup();
  });

  it('reports a wrong key as AUTH_FAILED and a closed port as HOST_UNREACHABLE', async () => {
    const { execFileSync } = await import('node:child_process');
    const t = await makeTempDir();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${t.dir}/other`]);
    const wrong: SshTarget = { ...admin, auth: { kind: 'key', privateKey: await readFile(`${t.dir}/other`) } };
    await t.cleanup();
    await expect(connectSsh(wrong, { hostKeys: new HostKeyStore(dataDir), confirmHostKey: async () => true })).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
    await expect(
      connectSsh({ ...admin, port: 2 }, { hostKeys: new HostKeyStore(dataDir), confirmHostKey: async () => true }),
    ).rejects.toMatchObject({
      code: 'HOST_UNREACHABLE',
    });
  });

  it('passes hostile arguments through the remote shell unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          fc.constantFrom(
            "'",
            "''",
            '"',
            '$(id)',
            '`id`',
            '; rm -rf /tmp/x',
            '&& echo hi',
            '| cat',
            '*',
            '~',
            '$HOME',
            '\\',
            '-n',
            '--',
            'a b',
            '\t',
            'ミスキー「テスト」',
            '🍣',
          ),
        ),
        async (s) => {
          fc.pre(!/[\0\n\r]/.test(s));
          const r = await session.check(['printf', '%s', s]);
          expect(r.stdout).toBe(s);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses newlines and NUL before anything is sent', async () => {
    for (const bad of ['a\nb', 'a\rb', 'a\0b']) {
      await expect(session.exec(['echo', bad])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('moves every byte value intact through stdin and stdout, without a TTY', async () => {
    const data = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      randomBytes(3 << 20),
      Buffer.from('\r\n\n\r日本語'),
    ]);
    const s = await session.stream(['cat'], { stdin: data });
    const chunks: Buffer[] = [];
    for await (const c of s.stdout) chunks.push(c as Buffer);
    expect((await s.done).code).toBe(0);
    const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(hash(Buffer.concat(chunks))).toBe(hash(data));
    expect((await session.exec(['sh', '-c', 'test -t 0 || test -t 1 && echo tty || echo notty'])).stdout.trim()).toBe('notty');
  });

  it('uses passwordless sudo for the admin user', async () => {
    expect((await session.check(['id', '-u'], { sudo: true })).stdout.trim()).toBe('0');
  });

  it('signs in with a password and feeds the sudo password on stdin, never on a command line', async () => {
    const password = env.OHLAB_PASS_PASSWORD!;
    const target: SshTarget = {
      host: env.OHLAB_A_IP!,
      port: 22,
      user: env.OHLAB_PASS_USER!,
      auth: { kind: 'password', password },
      sudoPassword: password,
    };
    const user = await connectSsh(target, { hostKeys: new HostKeyStore(dataDir), confirmHostKey: async () => true });
    const seen: string[] = [];
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        seen.push((await session.exec(['ps', '-eo', 'args'])).stdout);
      }
    })();
    for (let i = 0; i < 5; i++) {
      const r = await user.check(['sh', '-c', 'sleep 0.3; id -u; cat'], { sudo: true, stdin: 'payload-after-password' });
      expect(r.stdout).toBe('0\npayload-after-password');
    }
    stop = true;
    await watcher;
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.join('\n')).toContain('sleep 0.3');
    expect(seen.filter((s) => s.includes(password))).toEqual([]);
    user.close();
    const noPassword = await connectSsh(
      { ...target, sudoPassword: undefined },
      { hostKeys: new HostKeyStore(dataDir), confirmHostKey: async () => true },
    );
    await expect(noPassword.exec(['true'], { sudo: true })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    noPassword.close();
  });

  it('writes files atomically as root with their mode, keeps the previous version, and skips identical content', async () => {
    const dir = `/var/tmp/ohitori-write-${randomBytes(4).toString('hex')}`;
    const path = `${dir}/sub dir/secret 'file'.yml`;
    try {
      expect(await writeRemoteFile(session, path, 'pass: one\n', { mode: '600', sudo: true })).toEqual({ changed: true });
      const st = await session.check(['stat', '-c', '%a %U', path], { sudo: true });
      expect(st.stdout.trim()).toBe('600 root');
      expect(await session.exec(['cat', path])).toMatchObject({ code: 1 });
      expect((await readRemoteFile(session, path, true))?.toString()).toBe('pass: one\n');
      expect(await writeRemoteFile(session, path, 'pass: one\n', { mode: '600', sudo: true })).toEqual({ changed: false });
      expect(await writeRemoteFile(session, path, 'pass: two\n', { mode: '600', sudo: true })).toEqual({
        changed: true,
        previous: `${path}.prev`,
      });
      expect((await readRemoteFile(session, `${path}.prev`, true))?.toString()).toBe('pass: one\n');
      expect((await session.check(['ls', '-A', `${dir}/sub dir`], { sudo: true })).stdout.split('\n').filter(Boolean).sort()).toEqual([
        "secret 'file'.yml",
        "secret 'file'.yml.prev",
      ]);
      expect(await readRemoteFile(session, `${dir}/missing`, true)).toBeUndefined();
    } finally {
      await session.exec(['rm', '-rf', dir], { sudo: true });
    }
  });

  it('signs in through an ssh-agent, and never forwards it', async () => {
    const { execFileSync, spawn } = await import('node:child_process');
    const t = await makeTempDir();
    const sock = `${t.dir}/agent.sock`;
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100; i++) {
        try {
          execFileSync('ssh-add', [env.OHLAB_ADMIN_KEY!], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const viaAgent = await connectSsh(
        { ...admin, auth: { kind: 'agent', agentSocket: sock } },
        { hostKeys: new HostKeyStore(dataDir), confirmHostKey: async () => true },
      );
      expect((await viaAgent.check(['id', '-un'])).stdout.trim()).toBe(env.OHLAB_ADMIN_USER);
      // No agent forwarding: the remote side sees no agent socket.
      expect((await viaAgent.exec(['sh', '-c', 'echo "${SSH_AUTH_SOCK:-none}"'])).stdout.trim()).toBe('none');
      viaAgent.close();
    } finally {
      agent.kill();
      await t.cleanup();
    }
  });
});
