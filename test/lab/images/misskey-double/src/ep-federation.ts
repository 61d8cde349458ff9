/**
 * Relays and remote instances. The double never federates: a relay stays `requesting` forever,
 * exactly what a real instance shows offline or behind a manual-approval relay (misskey.md §10
 * rows 19–28). Not-found cases are plain Errors, which Misskey turns into INTERNAL_ERROR.
 */
import { ApiError, E } from './api-error';
import { defineEndpoint, type AnyEndpoint } from './endpoint-kit';
import { isHttpsUrl, toPuny } from './hosts';
import { genId } from './ids';
import { packInstance, type InstanceRow } from './pack-misc';
import { enqueueDelivery } from './deliver-queue';
import { getMeta, moderationLog } from './state';

const inboxParams = { type: 'object', required: ['inbox'], properties: { inbox: { type: 'string' } } } as const;

export const federationEndpoints: AnyEndpoint[] = [
  defineEndpoint(
    'admin/relays/add',
    { requireCredential: true, requireModerator: true, kind: 'write:admin:relays' },
    inboxParams,
    async (ps, ctx) => {
      if (!isHttpsUrl(ps.inbox)) throw new ApiError(E.invalidUrl);
      const id = genId(ctx.deps.cfg.id);
      // The unique index carries Misskey's name, so a duplicate fails with Misskey's exact message.
      await ctx.deps.pool.query(`INSERT INTO "relay" ("id", "inbox", "status") VALUES ($1, $2, 'requesting')`, [id, ps.inbox]);
      // The Follow to the relay goes through the deliver queue (and never gets an answer here).
      await enqueueDelivery(ctx.deps, (await getMeta(ctx.deps.pool)).settings, ps.inbox);
      return { id, inbox: ps.inbox, status: 'requesting' as const };
    },
  ),
  defineEndpoint(
    'admin/relays/list',
    { requireCredential: true, requireModerator: true, kind: 'read:admin:relays' },
    { type: 'object' },
    async (_ps, ctx) => {
      const r = await ctx.deps.pool.query<{ id: string; inbox: string; status: 'requesting' | 'accepted' | 'rejected' }>(
        `SELECT "id", "inbox", "status" FROM "relay" ORDER BY "id"`,
      );
      return r.rows;
    },
  ),
  defineEndpoint(
    'admin/relays/remove',
    { requireCredential: true, requireModerator: true, kind: 'write:admin:relays' },
    inboxParams,
    async (ps, ctx) => {
      const r = await ctx.deps.pool.query(`DELETE FROM "relay" WHERE "inbox" = $1`, [ps.inbox]);
      if (!r.rowCount) throw new Error('relay not found');
      await enqueueDelivery(ctx.deps, (await getMeta(ctx.deps.pool)).settings, ps.inbox);
      return undefined;
    },
  ),
  defineEndpoint(
    'admin/federation/update-instance',
    { requireCredential: true, requireModerator: true, kind: 'write:admin:federation' },
    {
      type: 'object',
      required: ['host'],
      properties: { host: { type: 'string' }, isSuspended: { type: 'boolean' }, moderationNote: { type: 'string' } },
    },
    async (ps, ctx) => {
      const { pool } = ctx.deps;
      const found = await pool.query<InstanceRow>(`SELECT * FROM "instance" WHERE "host" = $1`, [toPuny(ps.host)]);
      const inst = found.rows[0];
      if (!inst) throw new Error('instance not found');
      const wasSuspended = inst.suspensionState !== 'none';
      const changeSuspension = ps.isSuspended != null && wasSuspended !== ps.isSuspended;
      if (changeSuspension) {
        await pool.query(`UPDATE "instance" SET "suspensionState" = $2 WHERE "id" = $1`, [
          inst.id,
          ps.isSuspended ? 'manuallySuspended' : 'none',
        ]);
      }
      if (ps.moderationNote != null)
        await pool.query(`UPDATE "instance" SET "moderationNote" = $2 WHERE "id" = $1`, [inst.id, ps.moderationNote]);
      if (ctx.me && changeSuspension) {
        await moderationLog(ctx.deps, ctx.me, ps.isSuspended ? 'suspendRemoteInstance' : 'unsuspendRemoteInstance', {
          id: inst.id,
          host: inst.host,
        });
      }
      if (ctx.me && ps.moderationNote != null && ps.moderationNote !== inst.moderationNote) {
        await moderationLog(ctx.deps, ctx.me, 'updateRemoteInstanceNote', {
          id: inst.id,
          host: inst.host,
          before: inst.moderationNote,
          after: ps.moderationNote,
        });
      }
      return undefined;
    },
  ),
  defineEndpoint(
    'federation/show-instance',
    {},
    { type: 'object', required: ['host'], properties: { host: { type: 'string' } } },
    async (ps, ctx) => {
      const r = await ctx.deps.pool.query<InstanceRow>(`SELECT * FROM "instance" WHERE "host" = $1`, [toPuny(ps.host)]);
      const inst = r.rows[0];
      if (!inst) return null;
      const s = (await getMeta(ctx.deps.pool)).settings;
      return packInstance(inst, s.blockedHosts, s.silencedHosts ?? [], s.mediaSilencedHosts);
    },
  ),
];
