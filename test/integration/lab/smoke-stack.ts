import { randomBytes } from 'node:crypto';
import type { Client, SFTPWrapper } from 'ssh2';
import type { LabEnv, LabServerName } from '../../lab/env';
import { sftpOf, sshCheck, sshExec, uniqueName, waitFor } from './lab-ssh';

/** Which Compose spelling a stack is driven with. */
export type ComposeSpelling = 'v1' | 'v2';

/**
 * A three-service stack shaped like Misskey's compose_example.yml (web + db + redis, db/redis only
 * on an `internal: true` network), deployed over SSH into its own directory under /var/servers
 * with its own project name and web port, so tests never collide with each other or the app.
 */
export class SmokeStack {
  readonly name = uniqueName('ohlab-smoke');
  readonly dir = `/var/servers/docker/${this.name}`;
  readonly dbPassword = randomBytes(12).toString('hex');

  constructor(
    readonly env: LabEnv,
    readonly server: LabServerName,
    readonly ssh: Client,
    readonly opts: { spelling: ComposeSpelling; webPort: number },
  ) {}

  /** Shell command running compose in the stack dir (stdin from /dev/null unless `withStdin`). */
  compose(args: string, withStdin = false): string {
    const bin = this.opts.spelling === 'v2' ? 'docker compose' : 'docker-compose';
    return `cd ${this.dir} && ${bin} -p ${this.name} ${args}${withStdin ? '' : ' </dev/null'}`;
  }

  get composeYml(): string {
    return `services:
  web:
    image: misskey/misskey:latest
    init: true
    restart: always
    ports: ["127.0.0.1:${this.opts.webPort}:3000"]
    networks: [internal_network, external_network]
    volumes: ["./files:/misskey/files", "./.config:/misskey/.config:ro"]
    depends_on:
      db: {condition: service_healthy}
      redis: {condition: service_healthy}
  redis:
    image: redis:7-alpine
    restart: always
    networks: [internal_network]
    volumes: ["./redis:/data"]
    healthcheck: {test: "redis-cli ping", interval: 1s, retries: 30}
  db:
    image: postgres:15-alpine
    restart: always
    networks: [internal_network]
    env_file: [.config/docker.env]
    volumes: ["./db:/var/lib/postgresql/data"]
    healthcheck: {test: "pg_isready -U $$POSTGRES_USER -d $$POSTGRES_DB", interval: 1s, retries: 30}
networks:
  internal_network: {internal: true}
  external_network: {}
`;
  }

  /** Upload the files and `up -d`; resolves once web answers /healthz on the server's loopback. */
  async up(): Promise<void> {
    const s = this.env.servers[this.server];
    const u = this.env.admin.user;
    await sshCheck(
      this.ssh,
      `sudo -n install -d -o ${u} -g ${u} ${this.dir} ${this.dir}/.config && sudo -n install -d -o 991 -g 991 ${this.dir}/files`,
    );
    const sftp = await sftpOf(this.ssh);
    try {
      await put(sftp, `${this.dir}/compose.yml`, this.composeYml);
      await put(
        sftp,
        `${this.dir}/.config/docker.env`,
        `POSTGRES_PASSWORD=${this.dbPassword}\nPOSTGRES_USER=misskey\nPOSTGRES_DB=misskey\n`,
        0o600,
      );
      await put(
        sftp,
        `${this.dir}/.config/default.yml`,
        `url: https://${s.domain}\nport: 3000\ndb:\n  host: db\n  port: 5432\n  db: misskey\n  user: misskey\n  pass: ${this.dbPassword}\nredis:\n  host: redis\n  port: 6379\nid: aidx\n`,
      );
    } finally {
      sftp.end();
    }
    await sshCheck(this.ssh, this.compose('up -d'));
    await waitFor(
      `web /healthz on server ${this.server} port ${this.opts.webPort}`,
      async () => (await sshExec(this.ssh, `curl -fsS -o /dev/null http://127.0.0.1:${this.opts.webPort}/healthz`)).code === 0,
      90_000,
    );
  }

  /** Run psql in the db container with SQL on stdin; returns stdout (unaligned, tuples only). */
  psql(db: string, sql: string): Promise<string> {
    return sshCheck(this.ssh, this.compose(`exec -T db psql -v ON_ERROR_STOP=1 -X -q -A -t -U misskey -d ${db}`, true), sql);
  }

  /** Container id of a service (for docker inspect / network probes). */
  async containerId(service: string): Promise<string> {
    return (await sshCheck(this.ssh, this.compose(`ps -q ${service}`))).trim();
  }

  async down(): Promise<void> {
    await sshExec(this.ssh, this.compose('down -v -t 5 --remove-orphans'));
    await sshExec(this.ssh, `sudo -n rm -rf ${this.dir}`);
  }
}

function put(sftp: SFTPWrapper, path: string, text: string, mode = 0o644): Promise<void> {
  return new Promise((res, rej) => sftp.writeFile(path, text, { mode }, (e) => (e ? rej(e) : res())));
}

/** A web port unlikely to be used by another test at the same time (3100–3999). */
export function randomWebPort(): number {
  return 3100 + Math.floor(Math.random() * 900);
}
