import { z } from 'zod';
import type { Channel } from './channels';
import type { AppInfo, KeysState, KeySummary, PassphraseStrengthView, ServerProfile, Settings, VaultStatus } from './domain';
import { AUTH_METHODS, LANGUAGES } from './domain';
import type { JobSnapshot } from './jobs';
import { BUCKET_RE, checkEndpoint, PREFIX_RE, STORAGE_PRESETS, type StoragePresetInfo, type StorageView } from './storage';
import type { BackupSummary, DrillSettings, VerifyRecord } from './backups';
import type { BlockImportPreview, FirstAdminResult, InstanceSettings, InstanceStatus, RelayView, UserView } from './instance';

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

/** Instance administration (Misskey API): hosts as typed by the user, checked again in main. */
const profileRef = { profileId: id };
const hostEntry = z.string().trim().min(1).max(253);
const hostList = z.array(z.string().max(300)).max(20_000);
/** 2 MiB of image as base64 (4/3 of the bytes, rounded up). */
const EMOJI_B64_MAX = Math.ceil((2 * 1024 * 1024) / 3) * 4;

const fingerprint = z.string().regex(/^[0-9A-Fa-f ]{40,50}$/, 'fingerprint');
const passphrase = z.string().min(1).max(1024);
const armoredKey = z.string().min(100).max(200_000).includes('-----BEGIN PGP');

const setupChoices = {
  profileId: id,
  tls: z.enum(['acme', 'internal']),
  email: z.string().email().max(254).optional(),
  restrictSignIn: z.boolean(),
  allowedPrivateNetworks: z.array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'CIDR')).max(16),
};

/** Object storage (S3-compatible) settings of one server profile; secrets: absent keeps, null removes. */
const accessKeyId = z
  .string()
  .trim()
  .regex(/^[\x21-\x7e]{3,128}$/, 'access key id');
const secretAccessKey = z.string().regex(/^[\x21-\x7e]{1,256}$/, 'secret access key');
export const storageInput = z
  .object({
    profileId: id,
    preset: z.enum(STORAGE_PRESETS),
    endpoint: z
      .string()
      .trim()
      .max(2048)
      .superRefine((v, ctx) => {
        const c = checkEndpoint(v);
        if (!c.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `endpoint: ${c.reason}` });
      })
      .transform((v) => v.replace(/\/+$/, '')),
    region: z
      .string()
      .trim()
      .regex(/^[a-z0-9-]{2,32}$/, 'region'),
    bucket: z.string().trim().regex(BUCKET_RE, 'bucket'),
    prefix: z.string().trim().max(512).regex(PREFIX_RE, 'prefix'),
    forcePathStyle: z.boolean(),
    desktopAccessKeyId: accessKeyId,
    desktopSecret: secretAccessKey.nullable().optional(),
    serverAccessKeyId: accessKeyId.nullable().optional(),
    serverSecret: secretAccessKey.nullable().optional(),
  })
  .strict();

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
  'setup:preflight': z.object({ profileId: id }).strict(),
  'setup:review': z.object(setupChoices).strict(),
  'setup:apply': z.object(setupChoices).strict(),
  'setup:disk-usage': z.object({ profileId: id }).strict(),
  'setup:fix': z.object({ profileId: id, fix: z.enum(['install-caddy', 'create-subvolume']) }).strict(),
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
  'instance:status': z.object(profileRef).strict(),
  'instance:first-admin': z
    .object({
      ...profileRef,
      username: z.string().regex(/^\w{1,20}$/, 'username'),
      password: z.string().min(8).max(1024),
      setupPassword: z.string().min(1).max(1024).optional(),
      federate: z.boolean(),
    })
    .strict(),
  'instance:apply-preset': z.object({ ...profileRef, federate: z.boolean() }).strict(),
  'instance:connect-token': z
    .object({
      ...profileRef,
      token: z
        .string()
        .trim()
        .min(8)
        .max(256)
        .regex(/^[\x21-\x7e]+$/, 'token'),
    })
    .strict(),
  'instance:miauth-start': z.object(profileRef).strict(),
  'instance:miauth-check': z.object({ ...profileRef, session: z.string().uuid() }).strict(),
  'instance:disconnect': z.object(profileRef).strict(),
  'instance:settings': z.object(profileRef).strict(),
  'instance:set-cache-remote-files': z.object({ ...profileRef, enabled: z.boolean() }).strict(),
  'instance:clean-remote-files': z.object(profileRef).strict(),
  'instance:update-profile': z
    .object({
      ...profileRef,
      name: z.string().trim().max(200).nullable().optional(),
      description: z.string().max(5000).nullable().optional(),
      themeColor: z
        .string()
        .regex(/^#[0-9a-fA-F]{6}$/, 'colour')
        .nullable()
        .optional(),
      iconUrl: z
        .string()
        .url()
        .max(2048)
        .refine((u) => u.startsWith('https://'), 'https')
        .nullable()
        .optional(),
    })
    .strict(),
  'instance:relays': z.object(profileRef).strict(),
  'instance:relay-add': z.object({ ...profileRef, inbox: z.string().trim().min(1).max(2048) }).strict(),
  'instance:relay-remove': z.object({ ...profileRef, inbox: z.string().min(1).max(2048) }).strict(),
  'instance:blocks': z.object(profileRef).strict(),
  'instance:blocks-update': z
    .object({
      ...profileRef,
      expected: hostList,
      add: z.array(hostEntry).max(1000).optional(),
      remove: z.array(z.string().max(300)).max(1000).optional(),
    })
    .strict(),
  'instance:blocks-import-preview': z.object({ ...profileRef, text: z.string().max(1024 * 1024) }).strict(),
  'instance:blocks-import': z.object({ ...profileRef, text: z.string().max(1024 * 1024), expected: hostList }).strict(),
  'instance:delivery': z.object({ ...profileRef, host: hostEntry, suspended: z.boolean() }).strict(),
  'instance:user-lookup': z.object({ ...profileRef, acct: z.string().trim().min(1).max(300) }).strict(),
  'instance:user-suspend': z.object({ ...profileRef, acct: z.string().trim().min(1).max(300), suspended: z.boolean() }).strict(),
  'instance:emoji-add': z
    .object({
      ...profileRef,
      name: z.string().regex(/^[a-zA-Z0-9_]{1,128}$/, 'emoji name'),
      category: z.string().trim().max(128).optional(),
      fileName: z.string().min(1).max(255),
      dataBase64: z
        .string()
        .min(4)
        .max(EMOJI_B64_MAX)
        .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
    })
    .strict(),
  'instance:emoji-import-zip': z.object({ ...profileRef, path: absolutePath }).strict(),
  'storage:get': z.object(profileRef).strict(),
  'storage:save': storageInput,
  'storage:test': z.object(profileRef).strict(),
  'storage:presets': empty,
  'backup-job:install': z.object({ ...profileRef, keep: z.number().int().min(1).max(1000).optional() }).strict(),
  'backup-job:status': z.object(profileRef).strict(),
  'backup-job:run': z.object(profileRef).strict(),
  'backup-job:log': z.object(profileRef).strict(),
  'restore:run': z
    .object({
      sourceProfileId: z.string().min(1).max(100),
      targetProfileId: z.string().min(1).max(100),
      backupId: z.string().regex(/^\d{8}T\d{6}Z-\d{8}$/),
      migrate: z.boolean().optional(),
    })
    .strict(),
  'restore:status': z.object(profileRef).strict(),
  'restore:confirm': z.object(profileRef).strict(),
  // backups on the desktop
  'backups:list': z.object(profileRef).strict(),
  'backups:verify': z.object({ ...profileRef, backupId: z.string().regex(/^[A-Za-z0-9TZ-]{1,64}$/, 'backup id') }).strict(),
  'backups:verify-status': z.object(profileRef).strict(),
  'backups:summary': z.object(profileRef).strict(),
  'backups:drill-get': z.object(profileRef).strict(),
  'backups:drill-set': z.object({ ...profileRef, enabled: z.boolean(), restoreDrill: z.boolean().optional() }).strict(),
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
  'setup:preflight': JobSnapshot;
  'setup:review': JobSnapshot;
  'setup:apply': JobSnapshot;
  'setup:fix': JobSnapshot;
  'setup:disk-usage': JobSnapshot;
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
  'instance:status': InstanceStatus;
  'instance:first-admin': FirstAdminResult;
  'instance:apply-preset': InstanceSettings;
  'instance:connect-token': InstanceStatus;
  'instance:miauth-start': { readonly url: string; readonly session: string };
  'instance:miauth-check': InstanceStatus & { readonly approved: boolean };
  'instance:disconnect': { readonly disconnected: boolean };
  'instance:settings': InstanceSettings;
  'instance:set-cache-remote-files': InstanceSettings;
  'instance:clean-remote-files': JobSnapshot;
  'instance:update-profile': InstanceSettings;
  'instance:relays': readonly RelayView[];
  'instance:relay-add': readonly RelayView[];
  'instance:relay-remove': readonly RelayView[];
  'instance:blocks': readonly string[];
  'instance:blocks-update': readonly string[];
  'instance:blocks-import-preview': BlockImportPreview;
  'instance:blocks-import': JobSnapshot;
  'instance:delivery': { readonly host: string; readonly suspended: boolean };
  'instance:user-lookup': UserView & { readonly protected: string | null };
  'instance:user-suspend': UserView;
  'instance:emoji-add': { readonly id: string; readonly name: string };
  'instance:emoji-import-zip': JobSnapshot;
  'storage:get': StorageView | null;
  'storage:save': StorageView;
  'storage:test': JobSnapshot;
  'storage:presets': readonly StoragePresetInfo[];
  /** Result: InstallSummary. */
  'backup-job:install': JobSnapshot;
  /** Result: BackupJobStatus. */
  'backup-job:status': JobSnapshot;
  /** Result: BackupRunView. */
  'backup-job:run': JobSnapshot;
  /** Result: the last run's log text. */
  'backup-job:log': JobSnapshot;
  /** Result: RestoreResult. */
  'restore:run': JobSnapshot;
  /** Result: RestoreServerState | null. */
  'restore:status': JobSnapshot;
  /** Result: RestoreServerState | null. */
  'restore:confirm': JobSnapshot;
  // backups on the desktop
  'backups:list': JobSnapshot;
  'backups:verify': JobSnapshot;
  'backups:verify-status': Readonly<Record<string, VerifyRecord>>;
  'backups:summary': BackupSummary;
  'backups:drill-get': DrillSettings;
  'backups:drill-set': DrillSettings;
}

export type Args<C extends Channel> = z.input<(typeof schemas)[C]>;
export type ParsedArgs<C extends Channel> = z.output<(typeof schemas)[C]>;
export type ResultOf<C extends Channel> = Results[C];
export type ProfileInput = z.input<typeof profileInput>;
