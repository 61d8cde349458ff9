import { AppError } from '../../shared/errors';
import { COMPOSE_FILE_NAME } from './compose-file';
import type { StackModel } from './stack-model';

/**
 * Named after what it runs, not after us, and distinct from bash-install's `misskey.service`
 * (a non-Docker install) so both can be told apart on one machine.
 */
export const UNIT_NAME = 'misskey-stack.service';
/** Where setup installs it (admin-owned units, above the packages' /lib/systemd/system). */
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;

/** How the server runs Compose: `docker compose` (v2 plugin) or `docker-compose` (v1), by absolute path. */
export interface ComposeCommand {
  readonly kind: 'v2' | 'v1';
  /** Absolute path of `docker` (v2) or `docker-compose` (v1), as `command -v` found it. */
  readonly path: string;
}

/** systemd treats `%`, `$`, `\`, quotes and whitespace specially in Exec lines: only plain absolute paths pass. */
const UNIT_PATH_RE = /^(?:\/[A-Za-z0-9._+-]+)+$/;

function checkPath(what: string, p: string): string {
  if (!UNIT_PATH_RE.test(p) || p.split('/').some((s) => s === '.' || s === '..'))
    throw new AppError('INVALID_ARGUMENT', `Refusing to write ${what} ${JSON.stringify(p)} into a systemd unit`);
  return p;
}

/** The argv prefix for Compose with the stack's file named explicitly (an old docker-compose.yml beside it is ignored). */
export function composeArgv(compose: ComposeCommand, stackDir: string): readonly string[] {
  const bin = checkPath('the compose command', compose.path);
  const file = `${checkPath('the stack directory', stackDir)}/${COMPOSE_FILE_NAME}`;
  return compose.kind === 'v2' ? [bin, 'compose', '-f', file] : [bin, '-f', file];
}

/**
 * `Type=oneshot` + `RemainAfterExit=yes` running `up -d`, the usual recipe the guide's
 * "docker composeをsystemdで制御する" points to. Not `Type=simple` with a foreground `up`: that
 * copies every container's log into the journal a second time, and a crash of the compose
 * client would stop a stack that dockerd (restart: always) keeps anyway. `up -d` returns once
 * db and redis are healthy and web is started, so the unit is "active" when the stack is.
 * Stop is `down` (containers removed, bind-mounted data kept): after `systemctl stop`, dockerd's
 * restart policy cannot bring the containers back at the next boot behind systemd's back.
 * `reload` applies a changed compose file (`up -d --remove-orphans` recreates what changed).
 */
export function renderSystemdUnit(model: StackModel, compose: ComposeCommand): string {
  const argv = composeArgv(compose, model.stackDir).join(' ');
  return [
    '# Misskey stack (web + db + redis) under systemd, written by Ohitori.',
    '[Unit]',
    `Description=Misskey stack (docker compose in ${model.stackDir})`,
    'Documentation=https://misskey-hub.net/docs/for-admin/install/guides/docker/',
    'Requires=docker.service',
    'After=docker.service network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `WorkingDirectory=${checkPath('the stack directory', model.stackDir)}`,
    `ExecStart=${argv} up -d --remove-orphans`,
    `ExecReload=${argv} up -d --remove-orphans`,
    `ExecStop=${argv} down`,
    // First start may pull images; migrations run inside web after `up -d` returns.
    'TimeoutStartSec=900',
    'TimeoutStopSec=180',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
