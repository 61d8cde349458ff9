import { z } from 'zod';
import type { Channel } from './channels';
import type { AppInfo, KeysState, KeySummary, PassphraseStrengthView, ServerProfile, Settings, VaultStatus } from './domain';
import { AUTH_METHODS, LANGUAGES } from './domain';
import type { JobSnapshot } from './jobs';

/**
 * The one contract: each channel's argument schema (validated in main, for every transport) and
 * its result type. The renderer imports this file with `import type` only.
 */

const empty = z.object({}).strict();
const id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/);

/** Host names and IP literals; no spaces, quotes or shell metacharacters. */
const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/, 'host');
const domainName = z
  .string()
  .min(3)
  .max(253)
  .regex(/^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, 'domain');
const posixUser = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z_][a-z0-9_-]*\$?$/, 'user');
const absolutePath = z
  .string()
  .min(2)
  .max(1024)
  .regex(/^\/[^\0\n\r]*$/, 'absolute path')
  .refine((p) => !p.split('/').includes('..'), 'no ..');

export const profileInput = z
  .object({
    id: id.optional(),
    name: z.string().trim().min(1).max(80),
    host: hostName,
    port: z.number().int().min(1).max(65535),
    user: posixUser,
    auth: z.enum(AUTH_METHODS),
    keyPath: z.string().min(1).max(4096).optional(),
    domain: domainName,
    stackDir: absolutePath,
    /** SSH password or key passphrase; kept in the secret store. `null` removes it, absent keeps it. */
    secret: z.string().min(1).max(4096).nullable().optional(),
  })
  .strict()
  .refine((p) => p.auth !== 'key' || !!p.keyPath, { message: 'keyPath is required for key auth', path: ['keyPath'] });

const fingerprint = z.string().regex(/^[0-9A-Fa-f ]{40,50}$/, 'fingerprint');
const passphrase = z.string().min(1).max(1024);
const armoredKey = z.string().min(100).max(200_000).includes('-----BEGIN PGP');

export const schemas = {
  'app:info': empty,
  'settings:get': empty,
  'settings:set': z.object({ language: z.enum(LANGUAGES) }).strict(),
  'vault:status': empty,
  'vault:set-passphrase': z.object({ passphrase: z.string().min(8).max(1024) }).strict(),
  'vault:unlock': z.object({ passphrase: z.string().min(1).max(1024) }).strict(),
  'vault:lock': empty,
  'profiles:list': empty,
  'profiles:save': profileInput,
  'profiles:delete': z.object({ id }).strict(),
  'jobs:list': empty,
  'jobs:cancel': z.object({ id }).strict(),
  'jobs:answer': z.object({ id, promptId: id, accepted: z.boolean(), value: z.string().max(4096).optional() }).strict(),
  'jobs:dismiss': z.object({ id }).strict(),
  'diagnostics:self-check': z.object({ askFirst: z.boolean() }).strict(),
  'shell:open-external': z.object({ url: z.string().url().max(2048) }).strict(),
  'keys:list': empty,
  'keys:strength': z.object({ passphrase: z.string().max(1024) }).strict(),
  'keys:generate': z
    .object({ name: z.string().trim().min(1).max(100), email: z.string().email().max(200).optional(), passphrase })
    .strict(),
  'keys:import-private': z.object({ armored: armoredKey, passphrase }).strict(),
  'keys:add-recipient': z
    .object({ armored: armoredKey, label: z.string().trim().min(1).max(80), role: z.enum(['recovery', 'other']) })
    .strict(),
  'keys:remove': z.object({ fingerprint, force: z.boolean() }).strict(),
  'keys:export-public': z.object({ fingerprint }).strict(),
  'keys:export-recovery': z
    .object({
      passphrase,
      recoveryPassphrase: passphrase.optional(),
      path: z
        .string()
        .min(2)
        .max(4096)
        .regex(/^\/[^\0\n\r]*$/, 'absolute path'),
    })
    .strict(),
  'keys:unlock': z.object({ passphrase }).strict(),
  'keys:lock': empty,
} satisfies Record<Channel, z.ZodType>;

export interface Results {
  'app:info': AppInfo;
  'settings:get': Settings;
  'settings:set': Settings;
  'vault:status': VaultStatus;
  'vault:set-passphrase': VaultStatus;
  'vault:unlock': VaultStatus;
  'vault:lock': VaultStatus;
  'profiles:list': readonly ServerProfile[];
  'profiles:save': ServerProfile;
  'profiles:delete': { readonly deleted: boolean };
  'jobs:list': readonly JobSnapshot[];
  'jobs:cancel': JobSnapshot;
  'jobs:answer': JobSnapshot;
  'jobs:dismiss': { readonly dismissed: boolean };
  'diagnostics:self-check': JobSnapshot;
  'shell:open-external': { readonly opened: boolean };
  'keys:list': KeysState;
  'keys:strength': PassphraseStrengthView;
  'keys:generate': JobSnapshot;
  'keys:import-private': JobSnapshot;
  'keys:add-recipient': KeySummary;
  'keys:remove': { readonly removed: boolean };
  'keys:export-public': { readonly armored: string };
  'keys:export-recovery': { readonly keyPath: string; readonly pagePath: string };
  'keys:unlock': KeysState;
  'keys:lock': KeysState;
}

export type Args<C extends Channel> = z.input<(typeof schemas)[C]>;
export type ParsedArgs<C extends Channel> = z.output<(typeof schemas)[C]>;
export type ResultOf<C extends Channel> = Results[C];
export type ProfileInput = z.input<typeof profileInput>;
