/* eng-disable OPEN_EXTERNAL_JS_CHECK */
// Electronegativity exceptions above, reviewed: openExternal is reached only after the allowlist check in the handler.
import { homedir } from 'node:os';
import { isAllowedExternalUrl } from '../app/external-links';
import type { Channel } from '../shared/channels';
import type { ParsedArgs, ResultOf } from '../shared/contract';
import { AppError } from '../shared/errors';
import { runSelfCheck } from '../services/diagnostics/self-check';
import type { Services } from '../services/app-services';
import { STORAGE_PRESET_INFO } from '../shared/storage';

export type Handler<C extends Channel> = (arg: ParsedArgs<C>, services: Services) => Promise<ResultOf<C>>;
export type Handlers = { readonly [C in Channel]: Handler<C> };

/**
 * Thin adapters from validated arguments to services: no domain logic here, so the same
 * behaviour serves Electron IPC and browser mode.
 */
export const handlers: Handlers = {
  'app:info': async (_a, s) => ({
    version: s.options.version,
    mode: s.options.mode,
    dataDir: s.options.dataDir,
    homeDir: homedir(),
    platform: process.platform,
  }),
  'settings:get': async (_a, s) => s.settings.get(),
  'settings:set': async (a, s) => s.settings.update(a),
  'vault:status': async (_a, s) => s.vault.status(),
  'vault:set-passphrase': async (a, s) => s.vault.setPassphrase(a.passphrase),
  'vault:unlock': async (a, s) => s.vault.unlock(a.passphrase),
  'vault:lock': async (_a, s) => s.vault.lock(),
  'profiles:list': async (_a, s) => s.profiles.list(),
  'profiles:save': async (a, s) => s.profiles.save(a),
  'profiles:delete': async (a, s) => {
    const deleted = await s.profiles.delete(a.id);
    // Its storage settings and access keys go with the profile.
    if (deleted) await s.storage.delete(a.id);
    // So does what the desktop remembers about its backups (list cache, verify results, drill).
    if (deleted) await s.backups.catalog.store.remove(a.id);
    return { deleted };
  },
  'jobs:list': async (_a, s) => s.jobs.list(),
  'jobs:cancel': async (a, s) => s.jobs.cancel(a.id),
  'jobs:answer': async (a, s) =>
    s.jobs.answer(a.id, a.promptId, a.value === undefined ? { accepted: a.accepted } : { accepted: a.accepted, value: a.value }),
  'jobs:dismiss': async (a, s) => ({ dismissed: s.jobs.dismiss(a.id) }),
  'diagnostics:self-check': async (a, s) =>
    s.jobs.start('self-check', 'jobs.kinds.selfCheck', (ctx) => runSelfCheck(ctx, s.options.dataDir, s.vault, a.askFirst)),
  'setup:preflight': async (a, s) =>
    s.jobs.start('setup-preflight', 'jobs.kinds.setupPreflight', (ctx) => s.setup.preflight(a.profileId, ctx), a.profileId),
  'setup:review': async ({ profileId, ...choices }, s) =>
    s.jobs.start('setup-review', 'jobs.kinds.setupReview', (ctx) => s.setup.review(profileId, choices, ctx), profileId),
  'setup:apply': async ({ profileId, ...choices }, s) =>
    s.jobs.start('setup-apply', 'jobs.kinds.setupApply', (ctx) => s.setup.apply(profileId, choices, ctx), profileId),
  'setup:disk-usage': async (a, s) =>
    s.jobs.start('disk-usage', 'jobs.kinds.diskUsage', (ctx) => s.setup.diskUsage(a.profileId, ctx), a.profileId),
  'setup:fix': async (a, s) =>
    s.jobs.start('setup-preflight', 'jobs.kinds.setupFix', (ctx) => s.setup.fix(a.profileId, a.fix, ctx), a.profileId),
  'keys:list': async (_a, s) => s.keys.state(),
  'keys:strength': async (a, s) => s.keys.strength(a.passphrase),
  'keys:generate': async (a, s) =>
    s.jobs.start('key-generate', 'jobs.kinds.keyGenerate', async (ctx) => {
      ctx.progress({ step: 'keys.steps.generate', fraction: 0.1 });
      return s.keys.generate(a);
    }),
  'keys:import-private': async (a, s) =>
    s.jobs.start('key-import', 'jobs.kinds.keyImport', async (ctx) => {
      ctx.progress({ step: 'keys.steps.import', fraction: 0.1 });
      return s.keys.importPrivate(a);
    }),
  'keys:add-recipient': async (a, s) => s.keys.addRecipient(a),
  'keys:remove': async (a, s) => {
    await s.keys.remove(a.fingerprint, a.force);
    return { removed: true };
  },
  'keys:export-public': async (a, s) => ({ armored: await s.keys.exportPublic(a.fingerprint) }),
  'keys:export-recovery': async (a, s) => s.keys.exportRecovery(a),
  'keys:unlock': async (a, s) => s.keys.unlock(a.passphrase),
  'keys:lock': async (_a, s) => s.keys.lock(),
  'shell:open-external': async (a, s) => {
    // The user's own instances (profile domains) may be opened too, e.g. for MiAuth approval.
    const extraHosts = (await s.profiles.list()).map((p) => p.domain);
    if (!isAllowedExternalUrl(a.url, extraHosts))
      throw new AppError('FORBIDDEN', 'This address is not on the list of pages the app may open');
    if (!s.options.openExternal) return { opened: false };
    await s.options.openExternal(a.url, extraHosts);
    return { opened: true };
  },
  'instance:status': async (a, s) => s.instance.status(a.profileId),
  'instance:first-admin': async ({ profileId, ...a }, s) => s.instance.createFirstAdmin(profileId, a),
  'instance:apply-preset': async (a, s) => s.instance.applyPreset(a.profileId, { federate: a.federate }),
  'instance:connect-token': async (a, s) => s.instance.connectToken(a.profileId, a.token),
  'instance:miauth-start': async (a, s) => s.instance.miauthStart(a.profileId),
  'instance:miauth-check': async (a, s) => s.instance.miauthCheck(a.profileId, a.session),
  'instance:disconnect': async (a, s) => {
    await s.instance.disconnect(a.profileId);
    return { disconnected: true };
  },
  'instance:settings': async (a, s) => s.instance.settings(a.profileId),
  'instance:set-cache-remote-files': async (a, s) => s.instance.setCacheRemoteFiles(a.profileId, a.enabled),
  'instance:clean-remote-files': async (a, s) =>
    s.jobs.start('instance-clean-remote-files', 'jobs.kinds.cleanRemoteFiles', (ctx) =>
      s.instance.cleanRemoteFiles(a.profileId, (p) => ctx.progress(p), ctx.signal),
    ),
  'instance:update-profile': async ({ profileId, ...a }, s) => s.instance.updateProfile(profileId, a),
  'instance:relays': async (a, s) => s.instance.relays(a.profileId),
  'instance:relay-add': async (a, s) => s.instance.addRelay(a.profileId, a.inbox),
  'instance:relay-remove': async (a, s) => s.instance.removeRelay(a.profileId, a.inbox),
  'instance:blocks': async (a, s) => s.instance.blockedHosts(a.profileId),
  'instance:blocks-update': async ({ profileId, ...a }, s) => s.instance.updateBlockedHosts(profileId, a),
  'instance:blocks-import-preview': async (a, s) => s.instance.previewBlockImport(a.profileId, a.text),
  'instance:blocks-import': async ({ profileId, ...a }, s) =>
    s.jobs.start('instance-blocks-import', 'jobs.kinds.blocksImport', (ctx) =>
      s.instance.importBlockList(profileId, a, (p) => ctx.progress(p), ctx.signal),
    ),
  'instance:delivery': async (a, s) => {
    await s.instance.setDeliverySuspended(a.profileId, a.host, a.suspended);
    return { host: a.host, suspended: a.suspended };
  },
  'instance:user-lookup': async (a, s) => s.instance.lookupUser(a.profileId, a.acct),
  'instance:user-suspend': async (a, s) => s.instance.setUserSuspended(a.profileId, a.acct, a.suspended),
  'instance:emoji-add': async ({ profileId, ...a }, s) => s.instance.addEmoji(profileId, a),
  'instance:emoji-import-zip': async (a, s) =>
    s.jobs.start('instance-emoji-import-zip', 'jobs.kinds.emojiImportZip', (ctx) =>
      s.instance.importEmojiZip(a.profileId, a.path, (p) => ctx.progress(p), ctx.signal),
    ),
  'storage:get': async (a, s) => s.storage.get(a.profileId),
  'storage:save': async (a, s) => s.storage.save(a),
  'storage:test': async (a, s) =>
    s.jobs.start(
      'storage-test',
      'jobs.kinds.storageTest',
      (ctx) => s.storage.test(a.profileId, { signal: ctx.signal, progress: (p) => ctx.progress(p), log: (l) => ctx.log(l) }),
      a.profileId,
    ),
  'storage:presets': async () => Object.values(STORAGE_PRESET_INFO),
  'backup-job:install': async (a, s) =>
    s.jobs.start(
      'backup-job-install',
      'jobs.kinds.backupJobInstall',
      (ctx) => s.backupJob.install(a.profileId, ctx, { ...(a.keep ? { keep: a.keep } : {}) }),
      a.profileId,
    ),
  'backup-job:status': async (a, s) =>
    s.jobs.start('backup-job-status', 'jobs.kinds.backupJobStatus', (ctx) => s.backupJob.status(a.profileId, ctx), a.profileId),
  'backup-job:run': async (a, s) =>
    s.jobs.start('backup-job-run', 'jobs.kinds.backupJobRun', (ctx) => s.backupJob.runNow(a.profileId, ctx), a.profileId),
  'backup-job:log': async (a, s) =>
    s.jobs.start('backup-job-log', 'jobs.kinds.backupJobLog', (ctx) => s.backupJob.log(a.profileId, ctx), a.profileId),
  'restore:run': async (a, s) =>
    s.jobs.start(
      'restore-run',
      'jobs.kinds.restoreRun',
      (ctx) =>
        s.restore.run(
          {
            sourceProfileId: a.sourceProfileId,
            targetProfileId: a.targetProfileId,
            backupId: a.backupId,
            ...(a.migrate ? { migrate: true } : {}),
          },
          ctx,
        ),
      a.targetProfileId,
    ),
  'restore:status': async (a, s) =>
    s.jobs.start('restore-status', 'jobs.kinds.restoreStatus', (ctx) => s.restore.status(a.profileId, ctx), a.profileId),
  'restore:confirm': async (a, s) =>
    s.jobs.start('restore-confirm', 'jobs.kinds.restoreConfirm', (ctx) => s.restore.confirm(a.profileId, ctx), a.profileId),
  // backups on the desktop
  'backups:list': async (a, s) =>
    s.jobs.start(
      'backups-list',
      'jobs.kinds.backupsList',
      (ctx) => s.backups.catalog.list(a.profileId, { signal: ctx.signal, onProgress: (p) => ctx.progress(p) }),
      a.profileId,
    ),
  'backups:verify': async (a, s) =>
    s.jobs.start('backup-verify', 'jobs.kinds.backupVerify', (ctx) => s.backups.verifier.verify(a.profileId, a.backupId, ctx), a.profileId),
  'backups:verify-status': async (a, s) => (await s.backups.catalog.store.read(a.profileId)).verified,
  'backups:summary': async (a, s) => s.backups.catalog.summary(a.profileId),
  'backups:drill-get': async (a, s) => s.backups.drill.get(a.profileId),
  'backups:drill-set': async (a, s) => s.backups.drill.set(a.profileId, a.enabled, a.restoreDrill),
};
