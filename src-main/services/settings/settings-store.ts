import { join } from 'node:path';
import { z } from 'zod';
import type { Settings } from '../../shared/domain';
import { LANGUAGES } from '../../shared/domain';
import { readJsonFile, writeJsonFile } from '../files/atomic-file';

const fileSchema = z.object({ language: z.enum(LANGUAGES).catch('system') }).partial();

const DEFAULTS: Settings = { language: 'system' };

/** User preferences in `<dataDir>/settings.json`; unknown or broken values fall back to defaults. */
export class SettingsStore {
  private readonly path: string;
  constructor(dataDir: string) {
    this.path = join(dataDir, 'settings.json');
  }

  async get(): Promise<Settings> {
    const parsed = fileSchema.safeParse(await readJsonFile(this.path));
    return { ...DEFAULTS, ...(parsed.success ? parsed.data : {}) };
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = { ...(await this.get()), ...patch };
    await writeJsonFile(this.path, next);
    return next;
  }
}
