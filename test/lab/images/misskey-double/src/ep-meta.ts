/** Instance-level endpoints: meta, ping, admin/meta, admin/update-meta, policies, moderation logs. */
import type { Endpoints, entities } from 'misskey-js';
import { defineEndpoint, type AnyEndpoint, type CallContext } from './endpoint-kit';
import { normalizeHostList } from './hosts';
import { packUserDetailed } from './pack-user';
import { updateMetaParams } from './update-meta-params';
import { getMeta, moderationLog, saveSettings, type MetaRow, type StoredSettings, type UserRow } from './state';

const noParams = { type: 'object' } as const;

/** The public `meta` (MetaDetailed), as an unauthenticated client sees it. */
export function publicMeta(meta: MetaRow, ctx: CallContext): entities.MetaDetailed {
  const s = meta.settings;
  const { cfg, misskeyVersion } = ctx.deps;
  return {
    maintainerName: s.maintainerName,
    maintainerEmail: s.maintainerEmail,
    version: misskeyVersion,
    providesTarball: false,
    name: s.name,
    shortName: s.shortName,
    uri: cfg.url,
    description: s.description,
    langs: s.langs,
    tosUrl: s.tosUrl,
    repositoryUrl: s.repositoryUrl,
    feedbackUrl: s.feedbackUrl,
    defaultDarkTheme: s.defaultDarkTheme,
    defaultLightTheme: s.defaultLightTheme,
    clientOptions: s.clientOptions,
    disableRegistration: s.disableRegistration,
    emailRequiredForSignup: s.emailRequiredForSignup,
    enableHcaptcha: s.enableHcaptcha,
    hcaptchaSiteKey: s.hcaptchaSiteKey,
    enableMcaptcha: s.enableMcaptcha,
    mcaptchaSiteKey: s.mcaptchaSiteKey,
    mcaptchaInstanceUrl: s.mcaptchaInstanceUrl,
    enableRecaptcha: s.enableRecaptcha,
    recaptchaSiteKey: s.recaptchaSiteKey,
    enableTurnstile: s.enableTurnstile,
    turnstileSiteKey: s.turnstileSiteKey,
    enableTestcaptcha: s.enableTestcaptcha,
    googleAnalyticsMeasurementId: s.googleAnalyticsMeasurementId,
    swPublickey: s.swPublickey,
    mascotImageUrl: s.mascotImageUrl ?? `${cfg.url}/assets/ai.png`,
    bannerUrl: s.bannerUrl,
    serverErrorImageUrl: s.serverErrorImageUrl,
    infoImageUrl: s.infoImageUrl,
    notFoundImageUrl: s.notFoundImageUrl,
    iconUrl: s.iconUrl,
    maxNoteTextLength: 3000,
    ads: [],
    notesPerOneAd: s.notesPerOneAd,
    enableEmail: s.enableEmail,
    enableServiceWorker: s.enableServiceWorker,
    translatorAvailable: s.translatorAvailable,
    sentryForFrontend: null,
    mediaProxy: `${cfg.url}/proxy`,
    enableUrlPreview: s.urlPreviewEnabled,
    backgroundImageUrl: s.backgroundImageUrl,
    impressumUrl: s.impressumUrl,
    logoImageUrl: s.logoImageUrl,
    privacyPolicyUrl: s.privacyPolicyUrl,
    inquiryUrl: s.inquiryUrl,
    serverRules: s.serverRules,
    themeColor: s.themeColor,
    policies: meta.policies,
    noteSearchableScope: 'local',
    maxFileSize: cfg.maxFileSize,
    federation: s.federation,
    features: {
      registration: !s.disableRegistration,
      emailRequiredForSignup: s.emailRequiredForSignup,
      localTimeline: meta.policies.ltlAvailable,
      globalTimeline: meta.policies.gtlAvailable,
      hcaptcha: s.enableHcaptcha,
      turnstile: s.enableTurnstile,
      recaptcha: s.enableRecaptcha,
      objectStorage: s.useObjectStorage,
      serviceWorker: s.enableServiceWorker,
      miauth: true,
    },
    proxyAccountName: 'proxy',
    requireSetup: meta.rootUserId === null,
    cacheRemoteFiles: s.cacheRemoteFiles,
    cacheRemoteSensitiveFiles: s.cacheRemoteSensitiveFiles,
  };
}

function adminMeta(meta: MetaRow, ctx: CallContext): Endpoints['admin/meta']['res'] {
  const { langs: _l, serverRules: _r, logoImageUrl: _i, ...settings } = meta.settings;
  return {
    ...settings,
    uri: ctx.deps.cfg.url,
    version: ctx.deps.misskeyVersion,
    proxyAccountId: meta.rootUserId ?? '',
    policies: meta.policies as unknown as Record<string, never>,
  };
}

const HOST_LISTS = new Set(['blockedHosts', 'silencedHosts', 'mediaSilencedHosts', 'federationHosts']);

/** admin/update-meta's merge rules: lists replace, host lists normalised, nulls for lists ignored. */
export function applyUpdateMeta(before: StoredSettings, ps: Record<string, unknown>): StoredSettings {
  const next: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(ps)) {
    if (value === undefined || key === 'i' || !(key in (updateMetaParams.properties ?? {}))) continue;
    const target = key === 'swPublicKey' ? 'swPublickey' : key;
    if (Array.isArray(value)) {
      const strings = value.every((v) => typeof v === 'string') ? (value as string[]) : null;
      if (strings && HOST_LISTS.has(key)) next[target] = normalizeHostList(strings);
      else if (strings) next[target] = strings.filter((v) => v !== '');
      else next[target] = value;
    } else if (value === null && Array.isArray(before[key as keyof StoredSettings])) {
      continue;
    } else if (key === 'disableRegistration' && typeof value !== 'boolean') {
      continue;
    } else if (key === 'clientOptions' && typeof value === 'object' && value !== null) {
      next.clientOptions = { ...before.clientOptions, ...value };
    } else {
      next[target] = value;
    }
  }
  return next as unknown as StoredSettings;
}

async function logsFor(
  ps: Endpoints['admin/show-moderation-logs']['req'],
  ctx: CallContext,
): Promise<Endpoints['admin/show-moderation-logs']['res']> {
  const { pool } = ctx.deps;
  const limit = ps.limit ?? 10;
  const r = await pool.query<{ id: string; createdAt: Date; type: string; info: Record<string, never>; userId: string }>(
    `SELECT * FROM "moderation_log" WHERE ($1::text IS NULL OR "type" = $1) AND ($2::text IS NULL OR "userId" = $2)
     AND ($3::text IS NULL OR "id" < $3) AND ($4::text IS NULL OR "id" > $4) ORDER BY "id" DESC LIMIT $5`,
    [ps.type ?? null, ps.userId ?? null, ps.untilId ?? null, ps.sinceId ?? null, limit],
  );
  const meta = await getMeta(pool);
  const env = { url: ctx.deps.cfg.url, rootUserId: meta.rootUserId, policies: meta.policies };
  const users = new Map<string, UserRow>();
  for (const row of r.rows) {
    if (users.has(row.userId)) continue;
    const u = await pool.query<UserRow>(
      `SELECT u.*, (SELECT count(*) FROM "note" n WHERE n."userId" = u."id")::int AS "notesCount" FROM "user" u WHERE u."id" = $1`,
      [row.userId],
    );
    if (u.rows[0]) users.set(row.userId, u.rows[0]);
  }
  return r.rows.flatMap((row) => {
    const u = users.get(row.userId);
    return u
      ? [
          {
            id: row.id,
            createdAt: row.createdAt.toISOString(),
            type: row.type,
            info: row.info,
            userId: row.userId,
            user: packUserDetailed(u, env, true),
          },
        ]
      : [];
  });
}

export const metaEndpoints: AnyEndpoint[] = [
  defineEndpoint('meta', {}, { type: 'object', properties: { detail: { type: 'boolean' } } }, async (_ps, ctx) =>
    publicMeta(await getMeta(ctx.deps.pool), ctx),
  ),
  defineEndpoint('ping', {}, noParams, async () => ({ pong: Date.now() })),
  defineEndpoint('admin/meta', { requireCredential: true, requireAdmin: true, kind: 'read:admin:meta' }, noParams, async (_ps, ctx) =>
    adminMeta(await getMeta(ctx.deps.pool), ctx),
  ),
  defineEndpoint(
    'admin/update-meta',
    { requireCredential: true, requireAdmin: true, kind: 'write:admin:meta' },
    updateMetaParams,
    async (ps, ctx) => {
      const before = await getMeta(ctx.deps.pool);
      const after = applyUpdateMeta(before.settings, ps as Record<string, unknown>);
      await saveSettings(ctx.deps.pool, after);
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'updateServerSettings', { before: before.settings, after });
      return undefined;
    },
  ),
  defineEndpoint(
    'admin/roles/update-default-policies',
    { requireCredential: true, requireAdmin: true, kind: 'write:admin:roles' },
    { type: 'object', required: ['policies'], properties: { policies: { type: 'object' } } },
    async (ps, ctx) => {
      await ctx.deps.pool.query(`UPDATE "meta" SET "policies" = $1 WHERE "id" = 'x'`, [JSON.stringify(ps.policies)]);
      return undefined;
    },
  ),
  defineEndpoint(
    'admin/drive/clean-remote-files',
    { requireCredential: true, requireAdmin: true, kind: 'write:admin:drive' },
    noParams,
    async () => undefined,
  ),
  defineEndpoint(
    'admin/show-moderation-logs',
    { requireCredential: true, requireModerator: true, kind: 'read:admin:show-moderation-log' },
    {
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 100 },
        sinceId: { type: 'string' },
        untilId: { type: 'string' },
        type: { type: 'string', nullable: true },
        userId: { type: 'string', nullable: true },
      },
    },
    logsFor,
  ),
];
