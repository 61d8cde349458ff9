import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A directory only this user can read (mkdtemp creates it 0700), for decrypted parts that are not
 * yet verified. Callers create files in it with mode 0600, never through a symlink, and must call
 * `remove()` on every path (success, error, abort).
 */
export interface PrivateTempDir {
  readonly path: string;
  file(name: string): string;
  remove(): Promise<void>;
}

export async function createPrivateTempDir(base: string = tmpdir()): Promise<PrivateTempDir> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  const path = await mkdtemp(join(base, 'ohitori-restore-'));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
