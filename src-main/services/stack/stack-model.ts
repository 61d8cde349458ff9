import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The typed model every file setup writes is generated from (compose file, Misskey config, env
 * file, Caddyfile, systemd unit). Every user-provided value is checked here against a narrow
 * character set, so the generators never have to quote or escape anything a user typed.
 */

/** Lower-case DNS name with at least one dot and an alphabetic TLD (no IP literal, no port). */
const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Absolute POSIX path of plain segments; `.`/`..` segments are refused separately. */
const ABS_PATH_RE = /^(?:\/[A-Za-z0-9._-]+)+$/;
/** Secrets go into YAML and docker env files read by Compose v1 (literal) and v2 (interpolating): no quoting characters at all. */
const SECRET_RE = /^[A-Za-z0-9._~-]{12,128}$/;
/** PostgreSQL identifiers we are willing to write without quoting. */
const PG_IDENT_RE = /^[a-z_][a-z0-9_-]{0,62}$/;
/** `[registry[:port]/]name[/name…]:tag` — a tag is required (no implicit `latest`). */
const IMAGE_RE =
  /^(?:[a-z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const EMAIL_RE = /^[A-Za-z0-9._+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$/;

/** Misskey's id generators; `aid` for new instances. Never changed after the first start (misskey.md §1.1). */
export const ID_METHODS = ['aid', 'aidx', 'meid', 'meidg', 'ulid', 'objectid'] as const;
/** One of `ID_METHODS`. */
export type IdMethod = (typeof ID_METHODS)[number];

/** The guide's directory (step 1); every later step and the backup job refer to it. */
export const DEFAULT_STACK_DIR = '/var/servers/docker/misskey';
/** Current Misskey; db and redis pinned to the majors Misskey documents (15, 7), never `latest`. */
export const DEFAULT_IMAGES = { misskey: 'misskey/misskey:2026.5.4', postgres: 'postgres:15-alpine', redis: 'redis:7-alpine' } as const;
/** RFC 1918 + loopback + IPv6 ULA/loopback: the guide's "sign in only from home" ranges. */
export const DEFAULT_SIGN_IN_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '::1/128', 'fc00::/7'] as const;

/** `true` when `s` is an IPv4/IPv6 CIDR with an in-range prefix length (a bare address is refused). */
export function isCidr(s: string): boolean {
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(s);
  if (!m) return false;
  const family = isIP(m[1]!);
  const bits = Number(m[2]);
  return family !== 0 && bits <= (family === 4 ? 32 : 128);
}

/** Major version of an image tag like `15-alpine`, `15.6`, `7.2-bookworm`; undefined for `latest`, `alpine`… */
export function imageMajor(image: string): number | undefined {
  const tag = image.slice(image.lastIndexOf(':') + 1);
  const m = /^(\d+)(?:[.-]|$)/.exec(tag);
  return m ? Number(m[1]) : undefined;
}

function imageName(image: string): string {
  const noTag = image.slice(0, image.lastIndexOf(':'));
  return noTag.slice(noTag.lastIndexOf('/') + 1);
}

/** A secret as the files can hold it unquoted (also the rule for credentials read back from an existing config). */
export const SecretSchema = z.string().regex(SECRET_RE, 'must be 12–128 characters of A–Z a–z 0–9 . _ ~ - (nothing that needs quoting)');
/** A PostgreSQL database or user name we write unquoted. */
export const PgIdentSchema = z.string().regex(PG_IDENT_RE, 'must be a lower-case name of letters, digits, _ and -');
const cidr = z.string().refine(isCidr, 'must be a CIDR such as 192.168.1.0/24');
const absPath = z
  .string()
  .max(200)
  .regex(ABS_PATH_RE, 'must be an absolute path of letters, digits, ".", "_" and "-"')
  .refine((p) => !p.split('/').some((seg) => seg === '.' || seg === '..'), 'must not contain "." or ".." segments');

const postgresImage = z
  .string()
  .regex(IMAGE_RE, 'must be an image with an explicit tag, e.g. postgres:15-alpine')
  .superRefine((img, ctx) => {
    const major = imageMajor(img);
    if (imageName(img) !== 'postgres') ctx.addIssue({ code: 'custom', message: 'the db image must be postgres' });
    else if (major === undefined)
      ctx.addIssue({
        code: 'custom',
        message: 'pin a PostgreSQL major (e.g. postgres:15-alpine): a floating tag upgrades the database by surprise',
      });
    else if (major >= 18)
      ctx.addIssue({
        code: 'custom',
        message:
          'postgres 18+ images refuse a data mount at /var/lib/postgresql/data (they want /var/lib/postgresql); this stack mounts ./db there, so stay on 15–17 and upgrade majors with dump and restore',
      });
    else if (major < 15) ctx.addIssue({ code: 'custom', message: 'Misskey 13+ needs PostgreSQL 15 or newer' });
  });

const redisImage = z
  .string()
  .regex(IMAGE_RE, 'must be an image with an explicit tag, e.g. redis:7-alpine')
  .superRefine((img, ctx) => {
    const major = imageMajor(img);
    if (imageName(img) !== 'redis' && imageName(img) !== 'valkey')
      ctx.addIssue({ code: 'custom', message: 'the redis image must be redis or valkey' });
    else if (major === undefined) ctx.addIssue({ code: 'custom', message: 'pin a Redis major (e.g. redis:7-alpine)' });
    else if (imageName(img) === 'redis' && major < 7) ctx.addIssue({ code: 'custom', message: 'Misskey 13.11+ needs Redis 7 or newer' });
  });

/** A plain lower-case domain name (refuses spaces, quotes, braces, newlines, ports, IP literals). */
export const DomainSchema = z.string().toLowerCase().regex(DOMAIN_RE, 'must be a plain domain name such as misskey.example.com');
/** An absolute path without `.`/`..` segments or characters that need quoting. */
export const AbsPathSchema = absPath;

/** Caddy settings (also used alone by the decommission Caddyfile). */
export const CaddySettingsSchema = z.object({
  tls: z.enum(['acme', 'internal']).default('acme'),
  email: z.string().max(254).regex(EMAIL_RE, 'must be a plain e-mail address').optional(),
  restrictSignIn: z.boolean().default(false),
  signInAllowedRanges: z
    .array(cidr)
    .min(1)
    .max(64)
    .default(() => [...DEFAULT_SIGN_IN_RANGES]),
  accessLog: z
    .object({
      dir: absPath.default('/var/log/caddy'),
      rollSizeMb: z.number().int().min(1).max(1024).default(1),
      rollKeep: z.number().int().min(1).max(1000).default(5),
      keepForHours: z.number().int().min(1).max(87600).default(720),
    })
    .prefault({}),
});
/** Parsed Caddy settings. */
export type CaddySettings = z.output<typeof CaddySettingsSchema>;

/** Everything the generated files depend on. Parse user input with `StackModelSchema.parse`. */
export const StackModelSchema = z
  .object({
    domain: DomainSchema,
    stackDir: absPath.default(DEFAULT_STACK_DIR),
    /** Host port on 127.0.0.1 that Caddy proxies to; Misskey itself always listens on 3000 in its container. */
    webPort: z.number().int().min(1024).max(65535).default(3000),
    images: z
      .object({
        misskey: z
          .string()
          .regex(IMAGE_RE, 'must be an image with an explicit tag, e.g. misskey/misskey:2026.5.4')
          .default(DEFAULT_IMAGES.misskey),
        postgres: postgresImage.default(DEFAULT_IMAGES.postgres),
        redis: redisImage.default(DEFAULT_IMAGES.redis),
      })
      .prefault({}),
    /** firewalld breaks `internal: true` networks: no custom networks then (misskey.md §1.1, guide step 2). */
    firewalld: z.boolean().default(false),
    db: z.object({
      name: PgIdentSchema.default('misskey'),
      user: PgIdentSchema.default('misskey'),
      password: SecretSchema,
    }),
    setupPassword: SecretSchema,
    /** Undefined: keep the existing instance's, or `aid` for a new one. */
    id: z.enum(ID_METHODS).optional(),
    /** Only when the server resolves its own domain to a LAN address; the narrowest CIDRs, never /0. */
    allowedPrivateNetworks: z
      .array(cidr.refine((c) => !c.endsWith('/0'), 'a /0 range would allow every private address'))
      .min(1)
      .max(16)
      .optional(),
    caddy: CaddySettingsSchema.prefault({}),
    /** Install `misskey-stack.service` (see systemd-unit.ts); false on servers without systemd. */
    systemd: z.boolean().default(true),
  })
  .readonly();

/** The parsed, defaulted model. */
export type StackModel = z.output<typeof StackModelSchema>;
/** What callers may pass before defaults apply. */
export type StackModelInput = z.input<typeof StackModelSchema>;

/** The id generator the files use: the model's, or `aid` for a new instance. */
export function effectiveId(model: StackModel): IdMethod {
  return model.id ?? 'aid';
}

/** `https://<domain>` — Misskey's `url`, which must never change after the first start. */
export function instanceUrl(model: Pick<StackModel, 'domain'>): string {
  return `https://${model.domain}`;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random alphanumerics (rejection sampling, no modulo bias): safe unquoted in YAML, env files and URLs. */
export function randomAlnum(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248 && out.length < length) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** Fresh secrets for a new instance: 32 alphanumerics each (~190 bits). */
export function newSecrets(): { readonly dbPassword: string; readonly setupPassword: string } {
  return { dbPassword: randomAlnum(32), setupPassword: randomAlnum(32) };
}
