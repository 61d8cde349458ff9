import { Document } from 'yaml';
import { MISSKEY_PORT } from './misskey-config';
import type { StackModel } from './stack-model';

/** File name inside the stack dir; Compose v2 and v1 ≥ 1.28 both find it without `-f`. */
export const COMPOSE_FILE_NAME = 'compose.yml';
/** The network db and redis live on; `internal: true` means no route out and nothing in from outside the stack. */
export const INTERNAL_NETWORK = 'internal_network';
/** web's second network: the one with a route out (federation, object storage). */
export const EXTERNAL_NETWORK = 'external_network';

/** Compose healthcheck, long form; CMD-SHELL so `$$VAR` reaches the container's shell as `$VAR`. */
export interface ComposeHealthcheck {
  readonly test: readonly ['CMD-SHELL', string];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly start_period?: string;
}

/** The subset of the Compose spec the stack uses; every key also exists in docker-compose 1.29. */
export interface ComposeService {
  readonly image: string;
  readonly init?: true;
  readonly restart: 'always';
  readonly ports?: readonly string[];
  readonly env_file?: readonly string[];
  readonly volumes: readonly string[];
  readonly depends_on?: Readonly<Record<string, { readonly condition: 'service_healthy' }>>;
  readonly networks?: readonly string[];
  readonly healthcheck?: ComposeHealthcheck;
}

/** The whole file; `networks` is absent in the firewalld variant. */
export interface ComposeFile {
  readonly services: { readonly web: ComposeService; readonly redis: ComposeService; readonly db: ComposeService };
  readonly networks?: Readonly<Record<string, { readonly internal?: true }>>;
}

/**
 * The stack as data, shaped like upstream's compose_example.yml: web published on 127.0.0.1 only
 * (Caddy is the only way in), db and redis on an `internal: true` network with healthchecks web
 * waits for. With `firewalld` there are no custom networks at all (firewalld breaks container
 * traffic on internal networks: misskey.md §1.1, the guide's step 2): every service sits on the
 * project's default network, which still publishes nothing but web's loopback port.
 * web keeps its image's own HEALTHCHECK (Misskey's healthcheck.sh), which tracks the image.
 */
export function composeFile(model: StackModel): ComposeFile {
  const nets = (...n: string[]): { networks?: readonly string[] } => (model.firewalld ? {} : { networks: n });
  const web: ComposeService = {
    image: model.images.misskey,
    init: true,
    restart: 'always',
    ports: [`127.0.0.1:${model.webPort}:${MISSKEY_PORT}`],
    ...nets(INTERNAL_NETWORK, EXTERNAL_NETWORK),
    volumes: ['./files:/misskey/files', './.config:/misskey/.config:ro'],
    depends_on: { db: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } },
  };
  const redis: ComposeService = {
    image: model.images.redis,
    restart: 'always',
    ...nets(INTERNAL_NETWORK),
    volumes: ['./redis:/data'],
    healthcheck: { test: ['CMD-SHELL', 'redis-cli ping'], interval: '5s', timeout: '5s', retries: 20 },
  };
  const db: ComposeService = {
    image: model.images.postgres,
    restart: 'always',
    ...nets(INTERNAL_NETWORK),
    env_file: ['.config/docker.env'],
    volumes: ['./db:/var/lib/postgresql/data'],
    healthcheck: {
      test: ['CMD-SHELL', 'pg_isready -U $$POSTGRES_USER -d $$POSTGRES_DB'],
      interval: '5s',
      timeout: '5s',
      retries: 20,
      start_period: '30s',
    },
  };
  return {
    services: { web, redis, db },
    ...(model.firewalld ? {} : { networks: { [INTERNAL_NETWORK]: { internal: true }, [EXTERNAL_NETWORK]: {} } }),
  };
}

/** compose.yml text (no `version:` key: v1 1.29 reads it as 3.9, v2 ignores the key anyway). */
export function renderComposeFile(model: StackModel): string {
  const doc = new Document(composeFile(model));
  doc.commentBefore = [
    ' Misskey stack, written by Ohitori from its stack model (previous version: compose.yml.prev).',
    model.firewalld
      ? ' firewalld variant: no custom networks (firewalld breaks internal networks); nothing but web is published.'
      : ' db and redis are only on internal_network (internal: true); web is published on 127.0.0.1 only.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
