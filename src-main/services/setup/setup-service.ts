import { lookup } from 'node:dns/promises';
import type { ServerProfile } from '../../shared/domain';
import type { PreflightFix, PreflightReport } from '../../shared/setup';
import { AppError } from '../../shared/errors';
import type { JobContext } from '../jobs/job-runner';
import type { ProfileStore } from '../profiles/profile-store';
import type { HostKeyStore } from '../ssh/host-key-store';
import type { SshSession } from '../ssh/ssh-session';
import { instanceUrl } from '../stack/stack-model';
import { maskSecrets, renderStackFiles } from '../stack/stack-files';
import type { SecretStore } from '../vault/secret-store';
import { applyStack, composeCommand, fetchCaddyLocalRoot, planModel, type SetupChoices } from './apply-stack';
import type { InstanceCaStore } from './instance-ca-store';
import { openProfileSession } from './open-session';
import { fixCommand } from './preflight-fixes';
import { measureDiskUsage, type DiskUsage } from './disk-usage';
import { preflightReport } from './preflight-rules';
import { gatherServerFacts } from './server-facts';

export interface ReviewFile {
  readonly path: string;
  readonly mode: string;
  /** The file as it will be written, every secret replaced by a mask. */
  readonly content: string;
}

export interface SetupReview {
  readonly url: string;
  readonly rerun: boolean;
  readonly files: readonly ReviewFile[];
}

/** Secret-store name of the instance's setupPassword, which the first-admin step needs. */
export const setupPasswordName = (profileId: string): string => `profile:${profileId}:setup-password`;

/** What the desktop resolves the domain to; nothing when it does not resolve. */
async function resolveFromDesktop(domain: string): Promise<string[]> {
  try {
    return (await lookup(domain, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/**
 * The setup wizard's jobs: preflight, review (the exact files, secrets masked) and apply. Each
 * opens its own SSH session (host key prompt on first contact) and closes it when done.
 */
export class SetupService {
  constructor(
    private readonly profiles: ProfileStore,
    private readonly secrets: SecretStore,
    private readonly hostKeys: HostKeyStore,
    private readonly instanceCas: InstanceCaStore,
  ) {}

  private async withSession<T>(profileId: string, ctx: JobContext, fn: (s: SshSession, p: ServerProfile) => Promise<T>): Promise<T> {
    const profile = await this.profiles.get(profileId);
    const session = await openProfileSession(profile, this.secrets, this.hostKeys, ctx);
    try {
      return await fn(session, profile);
    } finally {
      session.close();
    }
  }

  preflight(profileId: string, ctx: JobContext): Promise<PreflightReport> {
    return this.withSession(profileId, ctx, async (session, profile) => {
      ctx.progress({ step: 'setup.steps.preflight', fraction: 0.3 });
      const facts = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      return preflightReport(facts, profile.domain, await resolveFromDesktop(profile.domain));
    });
  }

  review(profileId: string, choices: Omit<SetupChoices, 'domain' | 'stackDir'>, ctx: JobContext): Promise<SetupReview> {
    return this.withSession(profileId, ctx, async (session, profile) => {
      ctx.progress({ step: 'setup.steps.preflight', fraction: 0.3 });
      const facts = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      const model = await planModel(session, facts, { ...choices, domain: profile.domain, stackDir: profile.stackDir });
      const files = renderStackFiles(model, await composeCommand(session, facts));
      return {
        url: instanceUrl(model),
        rerun: facts.existingStack,
        files: files.map((f) => ({ path: f.path, mode: f.mode, content: maskSecrets(f).content })),
      };
    });
  }

  apply(profileId: string, choices: Omit<SetupChoices, 'domain' | 'stackDir'>, ctx: JobContext): Promise<{ url: string }> {
    return this.withSession(profileId, ctx, async (session, profile) => {
      ctx.progress({ step: 'setup.steps.preflight', fraction: 0.1 });
      const facts = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      const model = await planModel(session, facts, { ...choices, domain: profile.domain, stackDir: profile.stackDir });
      if (this.secrets.isUnlocked()) await this.secrets.set(setupPasswordName(profile.id), Buffer.from(model.setupPassword));
      await applyStack(session, facts, model, ctx);
      await this.instanceCas.set(profile.id, model.caddy.tls === 'internal' ? await fetchCaddyLocalRoot(session) : undefined);
      return { url: instanceUrl(model) };
    });
  }

  /** Applies a fix a check offered, after asking once more in the job; then the checks run again. */
  fix(profileId: string, fix: PreflightFix, ctx: JobContext): Promise<PreflightReport> {
    return this.withSession(profileId, ctx, async (session, profile) => {
      const facts = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      const argv = fixCommand(fix, facts, profile.stackDir);
      const answer = await ctx.ask({ kind: 'confirm', messageKey: 'setup.fixes.confirm', values: { command: argv.join(' ') } });
      if (!answer.accepted) throw new AppError('CANCELLED', 'Declined');
      ctx.progress({ step: `setup.fixes.${fix}`, fraction: 0.3 });
      if (fix === 'create-subvolume') await session.check(['mkdir', '-p', profile.stackDir.replace(/\/[^/]+$/, '') || '/'], { sudo: true });
      await session.check(argv, {
        sudo: true,
        signal: ctx.signal,
        onStdout: (l) => ctx.log(l.trimEnd()),
        onStderr: (l) => ctx.log(l.trimEnd()),
      });
      const after = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      return preflightReport(after, profile.domain, await resolveFromDesktop(profile.domain));
    });
  }

  /** Disk use of the instance's files and database, measured on the server. */
  diskUsage(profileId: string, ctx: JobContext): Promise<DiskUsage> {
    return this.withSession(profileId, ctx, async (session, profile) => {
      ctx.progress({ step: 'setup.steps.preflight', fraction: 0.3 });
      const facts = await gatherServerFacts(session, profile.stackDir, profile.domain, ctx.signal);
      return measureDiskUsage(session, facts, profile.stackDir);
    });
  }
}
