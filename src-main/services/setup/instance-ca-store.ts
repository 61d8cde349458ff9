import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';

/**
 * Root certificates of instances that use Caddy's own CA (`tls internal`, for a LAN), pinned per
 * server profile at setup (`<data>/instance-ca.json`). Public material: not a secret, but only
 * these certificates are trusted for that profile's instance, not the whole system store.
 */
export class InstanceCaStore {
  private readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'instance-ca.json');
  }

  private async all(): Promise<Record<string, string>> {
    const parsed = z.record(z.string(), z.string()).safeParse((await readJsonFile(this.path)) ?? {});
    return parsed.success ? parsed.data : {};
  }

  async get(profileId: string): Promise<string | undefined> {
    return (await this.all())[profileId];
  }

  async set(profileId: string, pem: string | undefined): Promise<void> {
    const all = await this.all();
    if (pem) all[profileId] = pem;
    else delete all[profileId];
    await writeJsonFile(this.path, all, 0o644);
  }
}
