import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import type { ServerProfile } from '../../shared/domain';
import { AUTH_METHODS } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { ParsedArgs } from '../../shared/contract';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';
import type { SecretStore } from '../vault/secret-store';

const stored = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  port: z.number(),
  user: z.string(),
  auth: z.enum(AUTH_METHODS),
  keyPath: z.string().optional(),
  domain: z.string(),
  stackDir: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
type StoredProfile = z.infer<typeof stored>;

/** Secret-store entry name of a profile's SSH password or key passphrase. */
export const profileSecretName = (id: string): string => `profile:${id}:ssh`;

/**
 * Server profiles in `<dataDir>/profiles.json` (no secrets in it); the password or key
 * passphrase goes to the secret store, which refuses when it is locked.
 */
export class ProfileStore {
  private readonly path: string;
  constructor(
    dataDir: string,
    private readonly secrets: SecretStore,
  ) {
    this.path = join(dataDir, 'profiles.json');
  }

  private async readAll(): Promise<StoredProfile[]> {
    const raw = await readJsonFile(this.path);
    const parsed = z.array(stored).safeParse(raw ?? []);
    if (!parsed.success) throw new AppError('INTERNAL', 'profiles.json is damaged', { path: this.path });
    return parsed.data;
  }

  private async present(p: StoredProfile): Promise<ServerProfile> {
    const hasSecret = this.secrets.isUnlocked() ? (await this.secrets.get(profileSecretName(p.id))) !== undefined : false;
    return { ...p, hasSecret };
  }

  async list(): Promise<ServerProfile[]> {
    return Promise.all((await this.readAll()).map((p) => this.present(p)));
  }

  async get(id: string): Promise<ServerProfile> {
    const p = (await this.readAll()).find((x) => x.id === id);
    if (!p) throw new AppError('NOT_FOUND', `No server profile ${id}`);
    return this.present(p);
  }

  async save(input: ParsedArgs<'profiles:save'>): Promise<ServerProfile> {
    const all = await this.readAll();
    const now = new Date().toISOString();
    const existing = input.id ? all.find((p) => p.id === input.id) : undefined;
    if (input.id && !existing) throw new AppError('NOT_FOUND', `No server profile ${input.id}`);
    if (input.secret !== undefined && !this.secrets.isUnlocked()) throw new AppError('VAULT_LOCKED', 'Unlock the secret store first');
    const { secret, ...fields } = input;
    const profile: StoredProfile = {
      ...fields,
      ...(fields.auth === 'key' ? {} : { keyPath: undefined }),
      id: existing?.id ?? randomUUID(),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (secret === null) await this.secrets.delete(profileSecretName(profile.id));
    else if (secret !== undefined) await this.secrets.set(profileSecretName(profile.id), Buffer.from(secret, 'utf8'));
    const next = existing ? all.map((p) => (p.id === profile.id ? profile : p)) : [...all, profile];
    await writeJsonFile(this.path, next);
    return this.present(profile);
  }

  async delete(id: string): Promise<boolean> {
    const all = await this.readAll();
    const next = all.filter((p) => p.id !== id);
    if (next.length === all.length) return false;
    await writeJsonFile(this.path, next);
    if (this.secrets.isUnlocked()) {
      await this.secrets.delete(profileSecretName(id));
      // The instance's Misskey token (services/misskey: misskeyTokenName) goes with the profile.
      await this.secrets.delete(`profile:${id}:misskey-token`);
    }
    return true;
  }
}
