import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, LAB_SERVER_NAMES, type LabEnv } from '../../lab/env';
import { labSsh, setComposeVariant, sshCheck, sshExec, type LabSsh } from './lab-ssh';
import { randomWebPort, SmokeStack, type ComposeSpelling } from './smoke-stack';

const CASES = LAB_SERVER_NAMES.flatMap((server) => (['v2', 'v1'] as ComposeSpelling[]).map((spelling) => ({ server, spelling })));

describe('lab: docker compose over SSH on each server with each spelling', () => {
  let env: LabEnv;
  const open: LabSsh[] = [];
  beforeAll(() => {
    env = loadLabEnv();
  });
  afterAll(async () => {
    for (const s of LAB_SERVER_NAMES) await setComposeVariant(s, 'both');
    for (const c of open) c.client.end();
  });

  it.each(CASES)('server $server, compose $spelling only: up -d a db+redis+web stack, then down', async ({ server, spelling }) => {
    await setComposeVariant(server, spelling === 'v2' ? 'v2-only' : 'v1-only');
    const c = await labSsh(env, server);
    open.push(c);
    // The other spelling is really gone on this server, as on a real machine that lacks it.
    if (spelling === 'v2') {
      const v1 = await sshExec(c.client, 'command -v docker-compose; docker-compose version');
      expect(v1.code).toBe(127);
      expect(await sshCheck(c.client, 'docker compose version')).toMatch(/Docker Compose version/);
    } else {
      const v2 = await sshExec(c.client, 'docker compose version');
      expect(v2.code).not.toBe(0);
      expect(v2.stderr.toString()).toMatch(/compose/);
      expect(await sshCheck(c.client, 'docker-compose version --short')).toMatch(/^1\.29/);
    }
    const stack = new SmokeStack(env, server, c.client, { spelling, webPort: randomWebPort() });
    try {
      await stack.up();
      const ps = await sshCheck(
        c.client,
        `docker ps --filter label=com.docker.compose.project=${stack.name} --format '{{.Names}} {{.Status}}'`,
      );
      const lines = ps.trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const svc of ['web', 'db', 'redis']) expect(lines.some((l) => l.includes(`_${svc}_`) || l.includes(`-${svc}-`))).toBe(true);
      expect(ps).toMatch(/healthy/);
      // `pull` goes to the lab's registry mirror (Docker Hub is unreachable): works offline.
      const pull = await sshExec(c.client, stack.compose('pull'));
      expect(pull.code, pull.stderr.toString()).toBe(0);
    } finally {
      await stack.down();
    }
    const left = await sshCheck(c.client, `docker ps -a --filter label=com.docker.compose.project=${stack.name} -q`);
    expect(left.trim()).toBe('');
  });
});
