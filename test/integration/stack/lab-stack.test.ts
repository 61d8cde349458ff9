/**
 * The generated stack, both variants, brought up for real on lab server a with the lab's images
 * (misskey/misskey:2026.5.4 is the API double, which really connects to db and redis with the
 * generated config, as UID 991). It is started and stopped with the exact ExecStart/ExecStop lines
 * of the generated systemd unit, run inside the server (systemd itself cannot run in the lab), with
 * the Compose spelling the server offers. Each run has its own stack dir (whose name is the compose
 * project name), its own web port, and only ever removes what it started.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderStackFiles, stackDirectories } from '../../../src-main/services/stack/stack-files';
import { UNIT_PATH, type ComposeCommand } from '../../../src-main/services/stack/systemd-unit';
import { instanceUrl, type StackModel } from '../../../src-main/services/stack/stack-model';
import { loadLabEnv, type LabEnv } from '../../lab/env';
import { runInServer } from '../../lab/server';
import { testModel } from '../../unit/stack/model-fixture';
import { runTool, type ToolResult } from './run-tool';

function probeFromHost(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3000 });
    s.once('connect', () => (s.destroy(), resolve('open')));
    s.once('timeout', () => (s.destroy(), resolve('timeout')));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

class GeneratedStack {
  readonly project = `ohstack${randomBytes(4).toString('hex')}`;
  readonly serverDir = `/var/servers/docker/${this.project}`;
  readonly hostDir: string;
  readonly model: StackModel;
  readonly dockerEnv: NodeJS.ProcessEnv;

  constructor(
    readonly lab: LabEnv,
    firewalld: boolean,
  ) {
    this.hostDir = join(lab.servers.a.root, this.serverDir);
    this.model = testModel({ stackDir: this.serverDir, webPort: randomInt(20000, 30000), firewalld, domain: lab.servers.a.domain });
    this.dockerEnv = { DOCKER_HOST: lab.servers.a.dockerHost };
  }

  /** The unit's line `key=`, split into argv (our unit never quotes: every token is a plain word). */
  unitLine: Record<string, string[]> = {};

  /** Writes what setup writes under the stack dir, with the modes and owners renderStackFiles asks for. */
  async write(compose: ComposeCommand): Promise<void> {
    for (const d of stackDirectories(this.model)) {
      const p = join(this.lab.servers.a.root, d.path);
      await mkdir(p, { recursive: true });
      await chmod(p, parseInt(d.mode, 8));
      if (d.owner) await chown(p, ...(d.owner.split(':').map(Number) as [number, number]));
    }
    for (const f of renderStackFiles(this.model, compose)) {
      if (f.path === UNIT_PATH)
        for (const line of f.content.split('\n')) {
          const m = /^(ExecStart|ExecStop|WorkingDirectory)=(.*)$/.exec(line);
          if (m) this.unitLine[m[1]!] = m[2]!.split(' ');
        }
      if (!f.path.startsWith(`${this.serverDir}/`)) continue; // the Caddyfile is checked elsewhere
      const p = join(this.lab.servers.a.root, f.path);
      await writeFile(p, f.content, { mode: parseInt(f.mode, 8) });
      await chmod(p, parseInt(f.mode, 8));
      if (f.owner) await chown(p, ...(f.owner.split(':').map(Number) as [number, number]));
    }
  }

  /** Runs the unit's `key=` command inside server a, in its WorkingDirectory, as systemd would (as root). */
  async unitCommand(key: 'ExecStart' | 'ExecStop'): Promise<{ code: number | null; stderr: string }> {
    const argv = this.unitLine[key];
    const cwd = this.unitLine.WorkingDirectory?.[0];
    if (!argv || !cwd) throw new Error(`the unit has no ${key}/WorkingDirectory`);
    const r = await runInServer('a', ['sh', '-c', 'cd -- "$0" && exec "$@"', cwd, ...argv], { timeoutMs: 170_000 });
    return { code: r.code, stderr: r.stderr.toString() };
  }

  /** Host-side compose on the project (inspection and last-resort cleanup). */
  compose(...args: string[]): Promise<ToolResult> {
    return runTool('/usr/bin/docker-compose', ['-p', this.project, '-f', join(this.hostDir, 'compose.yml'), ...args], {
      env: this.dockerEnv,
      cwd: this.hostDir,
      timeoutMs: 170_000,
    });
  }

  docker(...args: string[]): Promise<ToolResult> {
    return runTool('docker', args, { env: this.dockerEnv });
  }

  async containerId(service: string): Promise<string> {
    return (await this.compose('ps', '-q', service)).stdout.trim();
  }

  async health(service: string): Promise<string> {
    return (
      await this.docker('inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', await this.containerId(service))
    ).stdout.trim();
  }

  /** TCP probe from a throwaway container attached to `network` only. */
  async probeFrom(network: string, host: string, port: number): Promise<string> {
    const script = `timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null && echo OPEN || echo CLOSED`;
    const r = await this.docker('run', '--rm', '--network', network, this.model.images.postgres, 'bash', '-c', script);
    return r.stdout.trim() || r.stderr;
  }

  /** Last-resort cleanup of this project only (by its compose label), whatever state the test left. */
  async down(): Promise<void> {
    const r = await this.compose('down', '-v', '--remove-orphans', '-t', '5').catch(() => undefined);
    if (r?.code !== 0) {
      const label = `label=com.docker.compose.project=${this.project}`;
      const ids = (await this.docker('ps', '-a', '-q', '--filter', label)).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker('rm', '-f', '-v', ...ids);
      const nets = (await this.docker('network', 'ls', '-q', '--filter', label)).stdout.split('\n').filter(Boolean);
      if (nets.length > 0) await this.docker('network', 'rm', ...nets);
    }
    await rm(this.hostDir, { recursive: true, force: true });
  }
}

/**
 * The Compose the server offers, detected the way setup does (`docker compose version`, else
 * `command -v docker-compose`). When the server offers both (the lab's default), `prefer` picks
 * one, so the two variants below exercise both spellings of the unit's command lines.
 */
async function detectCompose(prefer: ComposeCommand['kind']): Promise<ComposeCommand> {
  const v2 = await runInServer('a', ['sh', '-c', 'docker compose version >/dev/null 2>&1 && command -v docker']);
  const v1 = await runInServer('a', ['sh', '-c', 'command -v docker-compose']);
  const found: ComposeCommand[] = [
    ...(v2.code === 0 ? [{ kind: 'v2', path: v2.stdout.toString().trim() } as const] : []),
    ...(v1.code === 0 ? [{ kind: 'v1', path: v1.stdout.toString().trim() } as const] : []),
  ];
  const pick = found.find((c) => c.kind === prefer) ?? found[0];
  if (!pick) throw new Error('server a offers no Compose');
  return pick;
}

async function waitHealthy(stack: GeneratedStack): Promise<void> {
  const until = Date.now() + 120_000;
  let last = '';
  for (;;) {
    const states = await Promise.all(['web', 'db', 'redis'].map(async (s) => `${s}=${await stack.health(s)}`));
    last = states.join(' ');
    if (states.every((s) => s.endsWith('=healthy'))) return;
    if (Date.now() > until)
      throw new Error(`stack not healthy: ${last}\n${(await stack.compose('logs', '--tail', '30', '--no-color')).stdout}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe.each([
  ['internal network', false, 'v2'],
  ['firewalld (no custom networks)', true, 'v1'],
] as const)('generated stack on lab server a: %s (compose %s preferred)', (_name, firewalld, prefer) => {
  it('comes up healthy with the generated config, publishes web on 127.0.0.1 only, keeps postgres unreachable from outside', async () => {
    const lab = loadLabEnv();
    const stack = new GeneratedStack(lab, firewalld);
    const { ip } = lab.servers.a;
    try {
      const compose = await detectCompose(prefer);
      console.log(`stack ${stack.project}: firewalld=${firewalld}, unit runs ${compose.kind} ${compose.path}`);
      await stack.write(compose);
      const up = await stack.unitCommand('ExecStart');
      expect(up.code, up.stderr).toBe(0);
      await waitHealthy(stack);

      // The double answers on the server's own loopback, and read the generated default.yml (uri = url).
      const port = String(stack.model.webPort);
      const healthz = await runInServer('a', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/healthz`]);
      expect(healthz.stdout.toString()).toBe('200');
      const meta = await runInServer('a', [
        'curl',
        '-fsS',
        '-X',
        'POST',
        '-H',
        'content-type: application/json',
        '-d',
        '{}',
        `http://127.0.0.1:${port}/api/meta`,
      ]);
      expect(JSON.parse(meta.stdout.toString()).uri).toBe(instanceUrl(stack.model));

      // Published on the server's loopback only: its lab address refuses, and db/redis publish nothing.
      expect(await probeFromHost(ip, 22)).toBe('open'); // positive control
      expect(await probeFromHost(ip, stack.model.webPort)).toBe('ECONNREFUSED');
      for (const svc of ['db', 'redis']) {
        const ports = await stack.docker('port', await stack.containerId(svc));
        expect([svc, ports.stdout.trim()]).toEqual([svc, '']);
      }
      expect(await probeFromHost(ip, 5432)).toBe('ECONNREFUSED');

      const networks = (
        await stack.docker('network', 'ls', '--filter', `label=com.docker.compose.project=${stack.project}`, '--format', '{{.Name}}')
      ).stdout
        .trim()
        .split('\n')
        .sort();
      if (!firewalld) {
        expect(networks).toEqual([`${stack.project}_external_network`, `${stack.project}_internal_network`]);
        const internal = await stack.docker('network', 'inspect', '-f', '{{.Internal}}', `${stack.project}_internal_network`);
        expect(internal.stdout.trim()).toBe('true');
        // positive control from inside, then isolation from a container on the external network
        expect(await stack.probeFrom(`${stack.project}_internal_network`, 'db', 5432)).toBe('OPEN');
        expect(await stack.probeFrom(`${stack.project}_external_network`, 'db', 5432)).toBe('CLOSED');
        expect(await stack.probeFrom(`${stack.project}_external_network`, 'redis', 6379)).toBe('CLOSED');
        // and the db has no way out of the stack (the lab registry on the bridge is unreachable from it)
        const out = await stack.docker(
          'exec',
          await stack.containerId('db'),
          'bash',
          '-c',
          `timeout 3 bash -c 'exec 3<>/dev/tcp/${lab.hostIp}/5000' 2>/dev/null && echo OPEN || echo CLOSED`,
        );
        expect(out.stdout.trim()).toBe('CLOSED');
      } else {
        expect(networks).toEqual([`${stack.project}_default`]);
        expect((await stack.docker('network', 'inspect', '-f', '{{.Internal}}', `${stack.project}_default`)).stdout.trim()).toBe('false');
      }

      // The unit's ExecStop takes the whole stack down (containers and networks), data dirs stay.
      const stop = await stack.unitCommand('ExecStop');
      expect(stop.code, stop.stderr).toBe(0);
      expect((await stack.docker('ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${stack.project}`)).stdout.trim()).toBe(
        '',
      );
      expect(
        (await stack.docker('network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${stack.project}`)).stdout.trim(),
      ).toBe('');
    } finally {
      await stack.down();
    }
    const left = await stack.docker('ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${stack.project}`);
    expect(left.stdout.trim()).toBe('');
  });
});
