/* eng-disable OPEN_EXTERNAL_JS_CHECK */
// Electronegativity exceptions above, reviewed: openExternal is reached only after the allowlist check in the handler.
import { homedir } from 'node:os';
import { isAllowedExternalUrl } from '../app/external-links';
import type { Channel } from '../shared/channels';
import type { ParsedArgs, ResultOf } from '../shared/contract';
import { AppError } from '../shared/errors';
import { runSelfCheck } from '../services/diagnostics/self-check';
import type { Services } from '../services/app-services';

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
  'profiles:delete': async (a, s) => ({ deleted: await s.profiles.delete(a.id) }),
  'jobs:list': async (_a, s) => s.jobs.list(),
  'jobs:cancel': async (a, s) => s.jobs.cancel(a.id),
  'jobs:answer': async (a, s) =>
    s.jobs.answer(a.id, a.promptId, a.value === undefined ? { accepted: a.accepted } : { accepted: a.accepted, value: a.value }),
  'jobs:dismiss': async (a, s) => ({ dismissed: s.jobs.dismiss(a.id) }),
  'diagnostics:self-check': async (a, s) =>
    s.jobs.start('self-check', 'jobs.kinds.selfCheck', (ctx) => runSelfCheck(ctx, s.options.dataDir, s.vault, a.askFirst)),
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
    if (!isAllowedExternalUrl(a.url)) throw new AppError('FORBIDDEN', 'This address is not on the list of pages the app may open');
    if (!s.options.openExternal) return { opened: false };
    await s.options.openExternal(a.url);
    return { opened: true };
  },
};
