import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { renderCaddyfile, type CaddyBlock, type CaddyNode } from './caddy-writer';
import { AbsPathSchema, CaddySettingsSchema, DomainSchema, type CaddySettings, type StackModel } from './stack-model';

/** Where setup writes the Caddyfile (Debian/Ubuntu/Fedora packages all read this one). */
export const CADDYFILE_PATH = '/etc/caddy/Caddyfile';

/**
 * Every sign-in endpoint, spelled out, plus the prefix glob that covers them and any future
 * `/api/signin…` endpoint: `/api/signin` (old), `/api/signin-flow` (new flow) and
 * `/api/signin-with-passkey` (misskey.md §9.5). Caddy matches paths case-insensitively and after
 * percent-decoding, so `/API/SignIn-Flow` and `/api/%73ignin-flow` are covered too (tested against
 * a real Caddy in test/integration/stack).
 */
export const SIGN_IN_PATHS = ['/api/signin', '/api/signin-flow', '/api/signin-with-passkey', '/api/signin*'] as const;

/** Options for test runs and throwaway drills, never for a user's server. */
export interface CaddyRenderOptions {
  /** `storage file_system <dir>` (certificates, the local CA). */
  readonly storageDir?: string;
  readonly httpPort?: number;
  readonly httpsPort?: number;
  /** `admin off` (no admin endpoint: `caddy reload` stops working). */
  readonly adminOff?: boolean;
}

const OptionsSchema = z.object({
  storageDir: AbsPathSchema.optional(),
  httpPort: z.number().int().min(1).max(65535).optional(),
  httpsPort: z.number().int().min(1).max(65535).optional(),
  adminOff: z.boolean().optional(),
});

function globalBlock(caddy: CaddySettings, opts: CaddyRenderOptions): CaddyBlock | undefined {
  const o = OptionsSchema.safeParse(opts);
  if (!o.success) throw new AppError('INVALID_ARGUMENT', `Bad Caddyfile options: ${o.error.message}`);
  const body: CaddyNode[] = [];
  if (caddy.tls === 'acme' && caddy.email) body.push({ name: 'email', args: [caddy.email] });
  if (caddy.tls === 'internal') body.push({ name: 'local_certs' }, { name: 'skip_install_trust' });
  if (opts.storageDir) body.push({ name: 'storage', args: ['file_system', opts.storageDir] });
  if (opts.httpPort) body.push({ name: 'http_port', args: [String(opts.httpPort)] });
  if (opts.httpsPort) body.push({ name: 'https_port', args: [String(opts.httpsPort)] });
  if (opts.adminOff) body.push({ name: 'admin', args: ['off'] });
  return body.length > 0 ? { kind: 'global', body } : undefined;
}

/** `(logging)`: a JSON access log under `accessLog.dir`, rolled by size, count and age (the guide's step 3). */
function loggingSnippet(caddy: CaddySettings): CaddyBlock {
  const l = caddy.accessLog;
  return {
    kind: 'snippet',
    label: 'logging',
    body: [
      {
        name: 'log',
        block: [
          {
            name: 'output',
            args: ['file', `${l.dir}/access.log`],
            block: [
              { name: 'roll_size', args: [`${l.rollSizeMb}mb`] },
              { name: 'roll_keep', args: [String(l.rollKeep)] },
              { name: 'roll_keep_for', args: [`${l.keepForHours}h`] },
            ],
          },
        ],
      },
    ],
  };
}

function header(caddy: CaddySettings, opts: CaddyRenderOptions, what: string): CaddyBlock[] {
  const g = globalBlock(caddy, opts);
  const comments = [`${what}, written by Ohitori (previous version: Caddyfile.prev).`];
  return g ? [{ ...g, comments }, loggingSnippet(caddy)] : [{ ...loggingSnippet(caddy), comments }];
}

/** The site in front of Misskey: logging, compression, the optional sign-in restriction, the proxy to 127.0.0.1. */
export function stackCaddyfile(model: StackModel, opts: CaddyRenderOptions = {}): string {
  const body: CaddyNode[] = [
    { name: 'import', args: ['logging'] },
    { name: 'encode', args: ['zstd', 'gzip'] },
  ];
  if (model.caddy.restrictSignIn) {
    body.push(
      { comment: 'Sign-in only from these networks (every /api/signin* endpoint, including signin-flow and signin-with-passkey).' },
      {
        name: '@blocked',
        block: [
          { name: 'path', args: [...SIGN_IN_PATHS] },
          { name: 'not', args: ['remote_ip', ...model.caddy.signInAllowedRanges] },
        ],
      },
      { name: 'respond', args: ['@blocked', '403'] },
    );
  }
  body.push({ name: 'reverse_proxy', args: [`localhost:${model.webPort}`] });
  return renderCaddyfile([...header(model.caddy, opts, 'Misskey'), { kind: 'site', label: model.domain, body }]);
}

/**
 * A closed instance: `410 Gone` on every path, inbox included, so other servers stop delivering
 * (Misskey ≥ 13.10 honours 410; a 502 or 404 keeps them retrying). Keep it up for months.
 */
export function decommissionCaddyfile(domain: string, opts: CaddyRenderOptions & { readonly caddy?: CaddySettings } = {}): string {
  const d = DomainSchema.safeParse(domain);
  if (!d.success) throw new AppError('INVALID_ARGUMENT', `Not a domain name: ${JSON.stringify(domain)}`);
  const caddy = opts.caddy ?? CaddySettingsSchema.parse({});
  return renderCaddyfile([
    ...header(caddy, opts, 'Closed Misskey instance'),
    {
      kind: 'site',
      label: d.data,
      body: [
        { name: 'import', args: ['logging'] },
        { name: 'respond', args: [{ quoted: 'Gone: this Misskey server has closed.' }, '410'] },
      ],
    },
  ]);
}
