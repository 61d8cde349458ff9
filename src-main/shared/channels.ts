/**
 * Every channel name, once. Kept free of zod so the sandboxed preload can import it cheaply and
 * expose exactly one function per channel.
 */
export const CHANNELS = [
  'app:info',
  'settings:get',
  'settings:set',
  'vault:status',
  'vault:set-passphrase',
  'vault:unlock',
  'vault:lock',
  'profiles:list',
  'profiles:save',
  'profiles:delete',
  'jobs:list',
  'jobs:cancel',
  'jobs:answer',
  'jobs:dismiss',
  'diagnostics:self-check',
  'setup:preflight',
  'setup:review',
  'setup:apply',
  'setup:fix',
  'setup:disk-usage',
  'keys:list',
  'keys:strength',
  'keys:generate',
  'keys:import-private',
  'keys:add-recipient',
  'keys:remove',
  'keys:export-public',
  'keys:export-recovery',
  'keys:unlock',
  'keys:lock',
  'shell:open-external',
  'instance:status',
  'instance:first-admin',
  'instance:apply-preset',
  'instance:connect-token',
  'instance:miauth-start',
  'instance:miauth-check',
  'instance:disconnect',
  'instance:settings',
  'instance:set-cache-remote-files',
  'instance:clean-remote-files',
  'instance:update-profile',
  'instance:relays',
  'instance:relay-add',
  'instance:relay-remove',
  'instance:blocks',
  'instance:blocks-update',
  'instance:blocks-import-preview',
  'instance:blocks-import',
  'instance:delivery',
  'instance:user-lookup',
  'instance:user-suspend',
  'instance:emoji-add',
  'instance:emoji-import-zip',
  'storage:get',
  'storage:save',
  'storage:test',
  'storage:presets',
  'backup-job:install',
  'backup-job:status',
  'backup-job:run',
  'backup-job:log',
  'restore:run',
  'restore:status',
  'restore:confirm',
  // backups on the desktop: list, verify, dashboard summary, weekly drill
  'backups:list',
  'backups:verify',
  'backups:verify-status',
  'backups:summary',
  'backups:drill-get',
  'backups:drill-set',
] as const;

export type Channel = (typeof CHANNELS)[number];

export function isChannel(name: string): name is Channel {
  return (CHANNELS as readonly string[]).includes(name);
}

/** The IPC channel names used underneath (Electron transport only). */
export const IPC_INVOKE = 'ohitori:invoke';
export const IPC_EVENT = 'ohitori:event';
