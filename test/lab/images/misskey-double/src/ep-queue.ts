/** Queue endpoints the app can use to see and clear a delivery backlog (misskey.md §10 rows 26, 41). */
import type { entities } from 'misskey-js';
import { clearDelayed, delayedByHost, delayedCount } from './deliver-queue';
import { defineEndpoint, type AnyEndpoint } from './endpoint-kit';
import { moderationLog } from './state';

const empty = (): entities.QueueCount => ({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 });

export const queueEndpoints: AnyEndpoint[] = [
  defineEndpoint(
    'admin/queue/stats',
    { requireCredential: true, requireModerator: true, kind: 'read:admin:queue' },
    { type: 'object' },
    async () => ({
      deliver: { ...empty(), delayed: delayedCount() },
      inbox: empty(),
      db: empty(),
      objectStorage: empty(),
    }),
  ),
  defineEndpoint(
    'admin/queue/deliver-delayed',
    { requireCredential: true, requireModerator: true, kind: 'read:admin:queue' },
    { type: 'object' },
    async () => delayedByHost(),
  ),
  defineEndpoint(
    'admin/queue/clear',
    { requireCredential: true, requireModerator: true, kind: 'write:admin:queue' },
    {
      type: 'object',
      required: ['queue', 'state'],
      properties: {
        queue: {
          type: 'string',
          enum: [
            'system',
            'endedPollNotification',
            'postScheduledNote',
            'deliver',
            'inbox',
            'db',
            'relationship',
            'objectStorage',
            'userWebhookDeliver',
            'systemWebhookDeliver',
          ],
        },
        state: { type: 'string', enum: ['*', 'completed', 'wait', 'active', 'paused', 'prioritized', 'delayed', 'failed'] },
      },
    },
    async (ps, ctx) => {
      if (ps.queue === 'deliver' && (ps.state === 'delayed' || ps.state === '*')) clearDelayed();
      if (ctx.me) await moderationLog(ctx.deps, ctx.me, 'clearQueue', {});
      return undefined;
    },
  ),
];
