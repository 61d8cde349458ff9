import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';

/** A server's host key as the user saw it: algorithm and OpenSSH-style SHA256 fingerprint. */
export interface HostKeyInfo {
  readonly algorithm: string;
  readonly fingerprint: string;
}

/** `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintOf(rawKey: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(rawKey).digest('base64').replace(/=+$/, '');
}

/** The algorithm name is the first SSH string of the key blob (`ssh-ed25519`, `rsa-sha2-…`). */
export function algorithmOf(rawKey: Buffer): string {
  if (rawKey.length < 4) return 'unknown';
  const len = rawKey.readUInt32BE(0);
  return len > 0 && len < 64 && rawKey.length >= 4 + len ? rawKey.subarray(4, 4 + len).toString('latin1') : 'unknown';
}

const entry = z.object({ algorithm: z.string(), fingerprint: z.string(), pinnedAt: z.string() });
const file = z.record(z.string(), entry);

/**
 * Host keys pinned on first use (`<data>/known-hosts.json`), keyed by `host:port`.
 * A connection whose key differs from the pinned one is stopped before authentication.
 */
export class HostKeyStore {
  private readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'known-hosts.json');
  }

  private async read(): Promise<z.infer<typeof file>> {
    const parsed = file.safeParse((await readJsonFile(this.path)) ?? {});
    return parsed.success ? parsed.data : {};
  }

  async get(host: string, port: number): Promise<HostKeyInfo | undefined> {
    return (await this.read())[`${host}:${port}`];
  }

  async pin(host: string, port: number, key: HostKeyInfo): Promise<void> {
    const all = await this.read();
    await writeJsonFile(this.path, { ...all, [`${host}:${port}`]: { ...key, pinnedAt: new Date().toISOString() } });
  }

  /** Forgets a pin, for when the user knows the server was reinstalled. */
  async forget(host: string, port: number): Promise<void> {
    const all = await this.read();
    delete all[`${host}:${port}`];
    await writeJsonFile(this.path, all);
  }
}
