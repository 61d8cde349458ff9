import { mkdir } from 'node:fs/promises';
import type { AppEvent } from '../shared/jobs';
import { SigningKeyPins } from './backups/signing-pins';
import { BackupJobService } from './backup-job/backup-job-service';
import { RestoreService } from './restore/restore-service';
import { scratchDir, sweepScratch } from './files/scratch-dir';
import { JobRunner } from './jobs/job-runner';
import { KeysService } from './keys/keys-service';
import { SetupService, setupPasswordName } from './setup/setup-service';
import { InstanceCaStore } from './setup/instance-ca-store';
import { HostKeyStore } from './ssh/host-key-store';
import { InstanceService } from './misskey/instance-service';
import { lookupFromEnv } from './misskey/resolve-override';
import { ProfileStore } from './profiles/profile-store';
import { SettingsStore } from './settings/settings-store';
import { StorageService } from './storage/storage-service';
import type { SafeStorageLike } from './vault/keychain-store';
import { Vault } from './vault/vault';
import { BackupCatalog } from './backups/backup-catalog';
import { BackupDrill } from './backups/backup-drill';
import { BackupVerifier } from './backups/backup-verify';
import { CatalogStore } from './backups/catalog-store';
import { openProfileSession } from './setup/open-session';

export interface ServicesOptions {
  readonly dataDir: string;
  readonly mode: 'electron' | 'browser';
  readonly version: string;
  readonly safeStorage?: SafeStorageLike;
  /** Opens an allowed https URL in the user's browser; absent where that is impossible. */
  readonly openExternal?: (url: string, extraHosts?: readonly string[]) => Promise<void>;
  /** Pushes an event to every connected window. */
  readonly broadcast: (event: AppEvent) => void;
}

/** Every main-process service, built once by a composition root (Electron or browser mode). */
export interface Services {
  readonly options: ServicesOptions;
  readonly vault: Vault;
  readonly settings: SettingsStore;
  readonly profiles: ProfileStore;
  readonly jobs: JobRunner;
  readonly keys: KeysService;
  readonly setup: SetupService;
  readonly instance: InstanceService;
  readonly storage: StorageService;
  readonly pins: SigningKeyPins;
  readonly backupJob: BackupJobService;
  readonly restore: RestoreService;
  /** Backups on the desktop: the list (catalog), verify and the weekly drill. */
  readonly backups: { readonly catalog: BackupCatalog; readonly verifier: BackupVerifier; readonly drill: BackupDrill };
}

export async function createServices(options: ServicesOptions): Promise<Services> {
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  // Decrypted data a killed earlier run left behind (restore staging, parts being verified).
  await sweepScratch(options.dataDir);
  const vault = await Vault.open({
    dataDir: options.dataDir,
    ...(options.safeStorage ? { safeStorage: options.safeStorage } : {}),
    onChange: (unlocked) => options.broadcast({ type: 'vault', unlocked }),
  });
  const profiles = new ProfileStore(options.dataDir, vault);
  const testLookup = lookupFromEnv(process.env);
  const instanceCas = new InstanceCaStore(options.dataDir);
  const hostKeys = new HostKeyStore(options.dataDir);
  const keys = new KeysService(options.dataDir, vault);
  const storage = new StorageService({
    dataDir: options.dataDir,
    secrets: vault,
    profileExists: async (id) => (await profiles.list()).some((p) => p.id === id),
  });
  const pins = new SigningKeyPins(options.dataDir);
  const jobs = new JobRunner({ onUpdate: (job) => options.broadcast({ type: 'job', job }) });
  const backups = createBackups({ dataDir: options.dataDir, profiles, storage, keys, vault, jobs, pins, hostKeys });
  return {
    options,
    vault,
    setup: new SetupService(profiles, vault, hostKeys, instanceCas),
    keys,
    settings: new SettingsStore(options.dataDir),
    profiles,
    instance: new InstanceService({
      profiles,
      secrets: vault,
      caFor: (id) => instanceCas.get(id),
      setupPasswordFor: async (id) => (await vault.get(setupPasswordName(id)))?.toString('utf8'),
      ...(testLookup ? { lookup: testLookup } : {}),
    }),
    storage,
    pins,
    backupJob: new BackupJobService({
      secrets: vault,
      hostKeys,
      profile: (id) => profiles.get(id),
      storage,
      keyring: keys.keyring,
      pins,
      ...(process.env.OHITORI_AGENT_DIR ? { agentDir: process.env.OHITORI_AGENT_DIR } : {}),
    }),
    restore: new RestoreService({
      dataDir: options.dataDir,
      secrets: vault,
      hostKeys,
      profile: (id) => profiles.get(id),
      storage,
      keyring: keys.keyring,
      pins,
      catalog: backups.catalog,
    }),
    jobs,
    backups,
  };
}

/** The backups block: catalog, verifier and drill share one state store per profile. */
function createBackups(d: {
  dataDir: string;
  profiles: ProfileStore;
  storage: StorageService;
  keys: KeysService;
  vault: Vault;
  jobs: JobRunner;
  pins: SigningKeyPins;
  hostKeys: HostKeyStore;
}): Services['backups'] {
  const catalog = new BackupCatalog({ profiles: d.profiles, storage: d.storage, pins: d.pins, store: new CatalogStore(d.dataDir) });
  const verifier = new BackupVerifier({
    catalog,
    keyring: d.keys.keyring,
    tempBase: scratchDir(d.dataDir),
    openSession: async (profileId, ctx) => openProfileSession(await d.profiles.get(profileId), d.vault, d.hostKeys, ctx),
  });
  const drill = new BackupDrill({ catalog, verifier, jobs: d.jobs, profileIds: async () => (await d.profiles.list()).map((p) => p.id) });
  drill.schedule();
  return { catalog, verifier, drill };
}
