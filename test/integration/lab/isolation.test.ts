import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { labSsh, sshCheck, type LabSsh } from './lab-ssh';
import { randomWebPort, SmokeStack } from './smoke-stack';

/** TCP connect from the test process (host namespace): 'open', or the error code. */
function probeFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3000 });
    s.once('connect', () => (s.destroy(), resolve('open')));
    s.once('timeout', () => (s.destroy(), resolve('timeout')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

describe('lab: the internal compose network really isolates db and redis', () => {
  let env: LabEnv;
  let c: LabSsh;
  let stack: SmokeStack;
  beforeAll(async () => {
    env = loadLabEnv();
    c = await labSsh(env, 'b');
    stack = new SmokeStack(env, 'b', c.client, { spelling: 'v1', webPort: randomWebPort() });
    await stack.up();
  });
  afterAll(async () => {
    await stack?.down();
    c?.client.end();
  });

  /** Probe host:port from a throwaway container attached to `network` only. */
  async function probeFrom(network: string, host: string, port: number): Promise<string> {
    const script = `timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null && echo OPEN || echo CLOSED`;
    return (await sshCheck(c.client, `docker run --rm --network ${network} postgres:15-alpine bash -c "${script}" </dev/null`)).trim();
  }

  it('a container only on external_network cannot reach db:5432 or redis:6379 (by name or address)', async () => {
    const dbIp = (
      await sshCheck(
        c.client,
        `docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ${await stack.containerId('db')}`,
      )
    ).trim();
    const redisIp = (
      await sshCheck(
        c.client,
        `docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ${await stack.containerId('redis')}`,
      )
    ).trim();
    expect(dbIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const internal = `${stack.name}_internal_network`;
    const external = `${stack.name}_external_network`;
    // positive control: the same probe succeeds from the internal network
    expect(await probeFrom(internal, 'db', 5432)).toBe('OPEN');
    expect(await probeFrom(internal, redisIp, 6379)).toBe('OPEN');
    // isolation
    expect(await probeFrom(external, 'db', 5432)).toBe('CLOSED');
    expect(await probeFrom(external, dbIp, 5432)).toBe('CLOSED');
    expect(await probeFrom(external, redisIp, 6379)).toBe('CLOSED');
  });

  it('nothing listens on 5432/6379 on the server, and the host cannot connect to them', async () => {
    const listening = await sshCheck(c.client, 'ss -ltnH');
    expect(listening).toMatch(new RegExp(`127\\.0\\.0\\.1:${stack.opts.webPort}\\b`)); // positive control: web is published
    expect(listening).not.toMatch(/:(5432|6379)\b/);
    const ip = env.servers.b.ip;
    expect(await probeFromHost(ip, 22)).toBe('open'); // positive control
    expect(await probeFromHost(ip, 5432)).toBe('ECONNREFUSED');
    expect(await probeFromHost(ip, 6379)).toBe('ECONNREFUSED');
    expect(await probeFromHost(ip, stack.opts.webPort)).toBe('ECONNREFUSED'); // published on the server's loopback only
  });
});
