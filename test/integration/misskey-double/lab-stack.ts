/**
 * A throw-away compose stack (the double + postgres:15-alpine + redis:7-alpine) on one lab
 * server, driven from the host through that server's dockerd socket. The double's port is
 * published on the server's lab address so tests reach it directly; the stack lives under the
 * server's /var/tmp, which the host sees under the server's `root` (test/lab/env.ts).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LabEnv, LabServerName } from '../../lab/env';

const REPO = resolve(import.meta.dirname, '../../..');
const DOUBLE_DIR = join(REPO, 'test/lab/images/misskey-double');

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command; stdin may be a Buffer. Never throws on a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: Buffer; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(opts.stdin ?? Buffer.alloc(0));
  });
}

async function must(p: Promise<RunResult>, what: string): Promise<RunResult> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r;
}

/** Bundles the double and builds it on `server` under a tag keyed by the bundle's hash. */
export async function buildDoubleImage(lab: LabEnv, server: LabServerName): Promise<string> {
  await must(run(process.execPath, [join(DOUBLE_DIR, 'build.mjs')], { cwd: REPO }), 'build.mjs');
  const hash = createHash('sha256')
    .update(await readFile(join(DOUBLE_DIR, 'dist/server.mjs')))
    .update(await readFile(join(DOUBLE_DIR, 'Dockerfile')))
    .digest('hex')
    .slice(0, 12);
  const tag = `ohitori-it/misskey-double:${hash}`;
  const env = { DOCKER_HOST: lab.servers[server].dockerHost };
  if ((await run('docker', ['image', 'inspect', tag], { env })).code !== 0) {
    await must(run('docker', ['build', '-q', '-t', tag, DOUBLE_DIR], { env }), `docker build on ${server}`);
  }
  return tag;
}

/** One stack on one lab server. */
export class DoubleStack {
  readonly project = `ohdbl${randomBytes(3).toString('hex')}`;
  port = randomInt(20000, 30000);
  readonly serverDir: string;
  readonly hostDir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly lab: LabEnv,
    readonly server: LabServerName,
    readonly image: string,
    readonly opts: {
      setupPassword?: string;
      domain?: string;
      filesOwner?: number;
      misskeyVersion?: string;
      /**
       * Also publish on 127.0.0.1:3000 inside the server, the real compose shape, so the server's
       * Caddy (`https://<domain>` → localhost:3000) reaches it. Only one stack per server can.
       */
      loopback3000?: boolean;
    } = {},
  ) {
    this.serverDir = `/var/tmp/${this.project}`;
    this.hostDir = join(lab.servers[server].root, this.serverDir);
    this.env = { DOCKER_HOST: lab.servers[server].dockerHost };
  }

  /** Where the double answers, on the server's lab address. */
  get url(): string {
    return `http://${this.lab.servers[this.server].ip}:${this.port}`;
  }

  private composeYml(): string {
    const d = this.serverDir;
    return `services:
  web:
    image: ${this.image}
    init: true
    ports: ["${this.lab.servers[this.server].ip}:${this.port}:3000"${this.opts.loopback3000 ? ', "127.0.0.1:3000:3000"' : ''}]
    volumes: ["${d}/files:/misskey/files", "${d}/.config:/misskey/.config:ro"]
    depends_on: {db: {condition: service_healthy}, redis: {condition: service_healthy}}
    environment: {DOUBLE_MISSKEY_VERSION: "${this.opts.misskeyVersion ?? '2026.5.4'}"}
  redis:
    image: redis:7-alpine
    healthcheck: {test: "redis-cli ping", interval: 1s, retries: 30}
  db:
    image: postgres:15-alpine
    environment: {POSTGRES_USER: misskey, POSTGRES_PASSWORD: dbpass, POSTGRES_DB: misskey}
    healthcheck: {test: "pg_isready -U misskey -d misskey", interval: 1s, retries: 60}
`;
  }

  private configYml(): string {
    return [
      `url: https://${this.opts.domain ?? this.lab.servers[this.server].domain}`,
      'port: 3000',
      'db: {host: db, port: 5432, db: misskey, user: misskey, pass: dbpass}',
      'redis: {host: redis, port: 6379}',
      'id: aidx',
      ...(this.opts.setupPassword ? [`setupPassword: ${this.opts.setupPassword}`] : []),
      '',
    ].join('\n');
  }

  compose(args: readonly string[], stdin?: Buffer): Promise<RunResult> {
    return run('docker-compose', ['-p', this.project, '-f', join(this.hostDir, 'compose.yml'), ...args], {
      env: this.env,
      ...(stdin ? { stdin } : {}),
    });
  }

  async up(): Promise<void> {
    await mkdir(join(this.hostDir, 'files'), { recursive: true });
    await mkdir(join(this.hostDir, '.config'), { recursive: true });
    // The app's setup chowns ./files to the image's UID 991; filesOwner 0 leaves it root's.
    const owner = this.opts.filesOwner ?? 991;
    await chown(join(this.hostDir, 'files'), owner, owner);
    await writeFile(join(this.hostDir, '.config/default.yml'), this.configYml());
    // Another test may hold the random port: pick a new one and try again.
    for (let attempt = 1; ; attempt++) {
      await writeFile(join(this.hostDir, 'compose.yml'), this.composeYml());
      const r = await this.compose(['up', '-d']);
      if (r.code === 0) break;
      if (attempt >= 3 || !/already (allocated|in use)/.test(r.stderr))
        throw new Error(`compose up (${this.server}) failed: ${r.stderr.slice(-2000)}`);
      await this.compose(['down', '-t', '1']);
      this.port = randomInt(20000, 30000);
    }
    await this.waitHealthy();
  }

  /** Polls /healthz until 200 (503 until DB and Redis answer); `meta` on versions without /healthz. */
  async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      let status = await fetch(`${this.url}/healthz`).then(
        (r) => r.status,
        () => 0,
      );
      // Misskey before 2024.5.0 has no /healthz: fall back to meta, as the app must.
      if (status === 404)
        status = await fetch(`${this.url}/api/meta`, { method: 'POST' }).then(
          (r) => r.status,
          () => 0,
        );
      const ok = status === 200;
      if (ok) return;
      if (Date.now() > until)
        throw new Error(`double on ${this.server} not healthy: ${(await this.compose(['logs', '--tail', '50'])).stdout}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** `docker compose exec -T <service> …`; stdin is passed through untouched (binary-safe). */
  async exec(service: string, args: readonly string[], stdin?: Buffer): Promise<Buffer> {
    return (await must(this.compose(['exec', '-T', service, ...args], stdin), `exec ${service} ${args.join(' ')}`)).stdout;
  }

  /** The double's own state digest (counts + sha256 over rows and files). */
  async fingerprint(): Promise<{
    sha256: string;
    tables: Record<string, { count: number; sha256: string }>;
    files: { count: number; sha256: string };
  }> {
    return JSON.parse((await this.exec('web', ['node', '/double/server.mjs', 'fingerprint'])).toString('utf8'));
  }

  async logs(): Promise<string> {
    return (await this.compose(['logs', '--no-color', 'web'])).stdout.toString('utf8');
  }

  async down(): Promise<void> {
    await this.compose(['down', '-v', '--remove-orphans', '-t', '2']);
    await rm(this.hostDir, { recursive: true, force: true });
  }
}
