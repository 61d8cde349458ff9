import type { PreflightFix, ServerFacts } from '../../shared/setup';
import { AppError } from '../../shared/errors';

/**
 * The command a fix runs on the server (through sudo), chosen from what the server is. Caddy
 * comes from the distribution's own repositories (Debian 12+/Ubuntu 22.04+ ship it; Fedora and
 * openSUSE too); a Btrfs stack directory becomes a subvolume so backups can snapshot it.
 */
export function fixCommand(fix: PreflightFix, facts: Pick<ServerFacts, 'packageManager'>, stackDir: string): readonly string[] {
  switch (fix) {
    case 'install-caddy':
      if (facts.packageManager === 'apt')
        return ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', 'caddy'];
      if (facts.packageManager === 'dnf') return ['dnf', 'install', '-y', 'caddy'];
      if (facts.packageManager === 'zypper') return ['zypper', '--non-interactive', 'install', 'caddy'];
      throw new AppError('INVALID_ARGUMENT', 'No known package manager on this server: install Caddy by hand');
    case 'create-subvolume':
      return ['btrfs', 'subvolume', 'create', stackDir];
  }
}
