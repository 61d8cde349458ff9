import { join } from 'node:path';
import { readKey, type PublicKey } from 'openpgp';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { SERVER_ID_PATTERN } from '../backup-format/format';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';

/**
 * The server id a stack's backups are filed under: derived from the instance's domain, so that a
 * stack restored onto a fresh machine under the same domain keeps writing to the same folder.
 * `misskey.example.com` → `misskey-example-com`.
 */
export function serverIdFor(domain: string): string {
  const id = domain
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!SERVER_ID_PATTERN.test(id)) throw new AppError('INVALID_ARGUMENT', 'No server id can be made from this domain', { domain });
  return id;
}

const pinSchema = z.object({
  fingerprint: z.string().regex(/^[0-9A-F]{40}$/),
  serverId: z.string().regex(SERVER_ID_PATTERN),
  armoredPublicKey: z.string(),
  pinnedAt: z.string(),
});
const fileSchema = z.object({ version: z.literal(1), pins: z.record(z.string(), z.array(pinSchema)) });

/** A server signing key the desktop trusts for one profile's backups. Public material only. */
export type PinnedSigningKey = z.infer<typeof pinSchema>;

/**
 * Pinned server signing keys, per server profile (docs/security-model.md). The job generates the
 * key on the server at install and the desktop pins the fingerprint it reports; a backup counts as
 * genuine only when signed by a pinned key. Re-installing on a fresh server adds a key (older
 * backups stay verifiable); nothing here is secret.
 */
export class SigningKeyPins {
  private readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'signing-keys.json');
  }

  private async readAll(): Promise<z.infer<typeof fileSchema>> {
    const raw = await readJsonFile(this.path);
    if (raw === undefined) return { version: 1, pins: {} };
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) throw new AppError('INTERNAL', 'The pinned signing keys file is damaged', { path: this.path });
    return parsed.data;
  }

  /** Newest pin last. */
  async list(profileId: string): Promise<PinnedSigningKey[]> {
    return (await this.readAll()).pins[profileId] ?? [];
  }

  /** The pin backups of this profile are currently written with (the newest), if any. */
  async current(profileId: string): Promise<PinnedSigningKey | undefined> {
    return (await this.list(profileId)).at(-1);
  }

  /**
   * Pins `armoredPublicKey` for this profile. Refuses private material and keys that cannot sign.
   * Pinning the key that is already current is a no-op; a known older key moves to current.
   */
  async pin(profileId: string, serverId: string, armoredPublicKey: string, now = new Date()): Promise<PinnedSigningKey> {
    if (!SERVER_ID_PATTERN.test(serverId)) throw new AppError('INVALID_ARGUMENT', 'Bad server id', { serverId });
    if (/PRIVATE KEY/.test(armoredPublicKey)) throw new AppError('INVALID_ARGUMENT', 'A signing key pin must be a public key');
    let key: PublicKey;
    try {
      key = await readKey({ armoredKey: armoredPublicKey });
    } catch (e) {
      throw new AppError('KEY_INVALID', 'The server signing key cannot be read', undefined, { cause: e });
    }
    if (key.isPrivate()) throw new AppError('INVALID_ARGUMENT', 'A signing key pin must be a public key');
    try {
      await key.getSigningKey();
    } catch (e) {
      throw new AppError('KEY_INVALID', 'The server key cannot sign', undefined, { cause: e });
    }
    const fingerprint = key.getFingerprint().toUpperCase();
    const all = await this.readAll();
    const list = (all.pins[profileId] ?? []).filter((p) => p.fingerprint !== fingerprint);
    const previous = (all.pins[profileId] ?? []).find((p) => p.fingerprint === fingerprint);
    const pin: PinnedSigningKey = previous
      ? { ...previous, serverId }
      : { fingerprint, serverId, armoredPublicKey: key.armor(), pinnedAt: now.toISOString() };
    all.pins[profileId] = [...list, pin];
    await writeJsonFile(this.path, all);
    return pin;
  }

  /** The parsed public keys of every pin of this profile (what backup verification accepts). */
  async publicKeys(profileId: string): Promise<PublicKey[]> {
    return Promise.all((await this.list(profileId)).map((p) => readKey({ armoredKey: p.armoredPublicKey })));
  }

  /** Forgets every pin of a profile (when the profile itself is removed). */
  async removeProfile(profileId: string): Promise<void> {
    const all = await this.readAll();
    if (!(profileId in all.pins)) return;
    delete all.pins[profileId];
    await writeJsonFile(this.path, all);
  }
}
