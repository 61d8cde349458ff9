import { CADDYFILE_PATH, stackCaddyfile } from './caddyfile';
import { COMPOSE_FILE_NAME, renderComposeFile } from './compose-file';
import { renderDockerEnv, renderMisskeyConfig } from './misskey-config';
import type { StackModel } from './stack-model';
import { UNIT_PATH, renderSystemdUnit, type ComposeCommand } from './systemd-unit';

/** UID:GID the Misskey image runs as (since 13.0.0); it must be able to read its config and write ./files. */
export const MISSKEY_OWNER = '991:991';

/**
 * One file setup writes (atomically, keeping `<path>.prev`: services/ssh/remote-files.ts).
 * It holds secrets in clear: only `maskSecrets(file)` may cross to the renderer.
 */
export interface StackFile {
  /** Absolute path on the server. */
  readonly path: string;
  readonly content: string;
  /** Octal: '600' for files holding secrets, '644' otherwise. */
  readonly mode: '600' | '644';
  /** Owner to set (`uid:gid`); absent: whoever writes it (root through sudo). */
  readonly owner?: string;
  readonly secret: boolean;
  /** Every secret value of the model, for `maskSecrets`; never shown. */
  readonly secretValues: readonly string[];
}

/** A directory setup creates before writing files, with its mode and owner. */
export interface StackDirectory {
  readonly path: string;
  readonly mode: '755';
  readonly owner?: string;
}

function secretsOf(model: StackModel): readonly string[] {
  return [model.db.password, model.setupPassword];
}

/**
 * Every file of the stack for `model`, in the order to write them. default.yml is 600 but owned
 * by 991 (the Misskey process reads it through the read-only `.config` mount); docker.env is 600
 * for root/the compose user only. The unit is only there when the model asks for systemd.
 */
export function renderStackFiles(model: StackModel, compose: ComposeCommand): readonly StackFile[] {
  const secretValues = secretsOf(model);
  const dir = model.stackDir;
  const files: StackFile[] = [
    { path: `${dir}/${COMPOSE_FILE_NAME}`, content: renderComposeFile(model), mode: '644', secret: false, secretValues },
    {
      path: `${dir}/.config/default.yml`,
      content: renderMisskeyConfig(model),
      mode: '600',
      owner: MISSKEY_OWNER,
      secret: true,
      secretValues,
    },
    { path: `${dir}/.config/docker.env`, content: renderDockerEnv(model), mode: '600', secret: true, secretValues },
    { path: CADDYFILE_PATH, content: stackCaddyfile(model), mode: '644', secret: false, secretValues },
  ];
  if (model.systemd) files.push({ path: UNIT_PATH, content: renderSystemdUnit(model, compose), mode: '644', secret: false, secretValues });
  return files;
}

/** Directories to create first: `files` must belong to 991 (Misskey writes uploads there); db and redis dirs are left to their images. */
export function stackDirectories(model: StackModel): readonly StackDirectory[] {
  const dir = model.stackDir;
  return [
    { path: dir, mode: '755' },
    { path: `${dir}/.config`, mode: '755' },
    { path: `${dir}/files`, mode: '755', owner: MISSKEY_OWNER },
  ];
}

/** What the review step shows instead of a secret. */
export const MASK = '••••••';

/** `text` with every occurrence of each secret replaced by `MASK` (longest first, so no secret is half-masked). */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
  return out;
}

/** The file as the wizard's review step shows it: same text, every secret value masked. */
export function maskSecrets(file: StackFile): StackFile {
  return { ...file, content: maskText(file.content, file.secretValues), secretValues: [] };
}
