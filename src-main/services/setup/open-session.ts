import { readFile } from 'node:fs/promises';
import type { ServerProfile } from '../../shared/domain';
import { AppError } from '../../shared/errors';
import type { JobContext } from '../jobs/job-runner';
import { profileSecretName } from '../profiles/profile-store';
import type { HostKeyStore } from '../ssh/host-key-store';
import { connectSsh, type SshAuth } from '../ssh/ssh-connect';
import type { SshSession } from '../ssh/ssh-session';
import type { SecretStore } from '../vault/secret-store';

/**
 * Opens SSH to a profile's server inside a job: the password or key passphrase comes from the
 * secret store, and an unknown host key becomes a question to the user (a job prompt).
 */
export async function openProfileSession(
  profile: ServerProfile,
  secrets: SecretStore,
  hostKeys: HostKeyStore,
  ctx: JobContext,
): Promise<SshSession> {
  const secret = secrets.isUnlocked() ? (await secrets.get(profileSecretName(profile.id)))?.toString('utf8') : undefined;
  let auth: SshAuth;
  if (profile.auth === 'password') {
    if (!secret) throw new AppError('AUTH_FAILED', 'No password is saved for this server (or the secret store is locked)');
    auth = { kind: 'password', password: secret };
  } else if (profile.auth === 'agent') {
    const sock = process.env.SSH_AUTH_SOCK;
    if (!sock) throw new AppError('AUTH_FAILED', 'No SSH agent is running on this computer (SSH_AUTH_SOCK is not set)');
    auth = { kind: 'agent', agentSocket: sock };
  } else {
    let key: Buffer;
    try {
      key = await readFile(profile.keyPath ?? '');
    } catch {
      throw new AppError('AUTH_FAILED', `Cannot read the key file ${profile.keyPath ?? ''}`);
    }
    auth = { kind: 'key', privateKey: key, ...(secret ? { passphrase: secret } : {}) };
  }
  ctx.progress({ step: 'setup.steps.connect' });
  return connectSsh(
    {
      host: profile.host,
      port: profile.port,
      user: profile.user,
      auth,
      ...(profile.auth === 'password' && secret ? { sudoPassword: secret } : {}),
    },
    {
      hostKeys,
      signal: ctx.signal,
      confirmHostKey: async (info) =>
        (
          await ctx.ask({
            kind: 'host-key',
            messageKey: 'prompts.hostKey',
            values: { host: `${info.host}:${info.port}`, fingerprint: info.fingerprint, algorithm: info.algorithm },
          })
        ).accepted,
    },
  );
}
