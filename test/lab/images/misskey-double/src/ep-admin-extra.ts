/**
 * admin/server-info (the app's "what is this box" read-out) and system webhooks (alert targets,
 * misskey.md §1.3). Webhooks are stored but never sent: the double makes no outbound requests.
 */
import { statfs } from 'node:fs/promises';
import { cpus, hostname, platform, totalmem } from 'node:os';
import type { entities } from 'misskey-js';
import { defineEndpoint, type AnyEndpoint } from './endpoint-kit';
import { genId, secureRndstr } from './ids';
import { moderationLog } from './state';

type WebhookRow = Omit<entities.SystemWebhook, 'updatedAt' | 'latestSentAt'> & { updatedAt: Date; latestSentAt: Date | null };
const EVENTS = [
  'abuseReport',
  'abuseReportResolved',
  'userCreated',
  'inactiveModeratorsWarning',
  'inactiveModeratorsInvitationOnlyChanged',
] as const;

function packWebhook(w: WebhookRow): entities.SystemWebhook {
  return { ...w, updatedAt: w.updatedAt.toISOString(), latestSentAt: w.latestSentAt?.toISOString() ?? null };
}

export const adminExtraEndpoints: AnyEndpoint[] = [
  defineEndpoint(
    'admin/server-info',
    { requireCredential: true, requireModerator: true, kind: 'read:admin:server-info' },
    { type: 'object' },
    async (_ps, ctx) => {
      const pg = await ctx.deps.pool.query<{ server_version: string }>('SHOW server_version');
      const fs = await statfs(ctx.deps.cfg.filesDir).catch(() => null);
      const cpu = cpus();
      return {
        machine: hostname(),
        os: platform(),
        node: process.version,
        psql: pg.rows[0]?.server_version ?? '',
        cpu: { model: cpu[0]?.model ?? 'unknown', cores: cpu.length },
        mem: { total: totalmem() },
        fs: fs ? { total: fs.blocks * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize } : { total: 0, used: 0 },
        net: { interface: 'eth0' },
      };
    },
  ),
  defineEndpoint(
    'admin/system-webhook/create',
    { requireCredential: true, requireModerator: true, secure: true },
    {
      type: 'object',
      required: ['isActive', 'name', 'on', 'url'],
      properties: {
        isActive: { type: 'boolean' },
        name: { type: 'string', minLength: 1, maxLength: 255 },
        on: { type: 'array', items: { type: 'string', enum: EVENTS } },
        url: { type: 'string', minLength: 1, maxLength: 1024 },
        secret: { type: 'string' },
      },
    },
    async (ps, ctx) => {
      const id = genId(ctx.deps.cfg.id);
      const r = await ctx.deps.pool.query<WebhookRow>(
        `INSERT INTO "system_webhook" ("id", "isActive", "updatedAt", "name", "on", "url", "secret") VALUES ($1, $2, now(), $3, $4, $5, $6) RETURNING *`,
        [id, ps.isActive, ps.name, ps.on, ps.url, ps.secret ?? secureRndstr(16)],
      );
      const hook = packWebhook(r.rows[0]!);
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'createSystemWebhook', { systemWebhookId: id, webhook: hook });
      return hook;
    },
  ),
  defineEndpoint(
    'admin/system-webhook/list',
    { requireCredential: true, requireModerator: true, secure: true },
    { type: 'object', properties: { isActive: { type: 'boolean' }, on: { type: 'array', items: { type: 'string', enum: EVENTS } } } },
    async (ps, ctx) => {
      const r = await ctx.deps.pool.query<WebhookRow>(
        `SELECT * FROM "system_webhook" WHERE ($1::boolean IS NULL OR "isActive" = $1) AND ($2::varchar[] IS NULL OR "on" && $2) ORDER BY "id"`,
        [ps.isActive ?? null, ps.on ?? null],
      );
      return r.rows.map(packWebhook);
    },
  ),
  defineEndpoint(
    'admin/system-webhook/delete',
    { requireCredential: true, requireModerator: true, secure: true },
    { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
    async (ps, ctx) => {
      const r = await ctx.deps.pool.query<WebhookRow>(`DELETE FROM "system_webhook" WHERE "id" = $1 RETURNING *`, [ps.id]);
      if (!r.rows[0]) throw new Error('system webhook not found');
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'deleteSystemWebhook', { systemWebhookId: ps.id, webhook: packWebhook(r.rows[0]) });
      return undefined;
    },
  ),
];
