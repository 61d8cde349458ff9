import type { ServerFacts } from '../../shared/setup';
import { AppError } from '../../shared/errors';
import type { JobContext } from '../jobs/job-runner';
import { readRemoteFile, writeRemoteFile } from '../ssh/remote-files';
import { script } from '../ssh/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import { CADDYFILE_PATH } from '../stack/caddyfile';
import { mergeWithExisting, parseExistingConfig } from '../stack/misskey-config';
import { newSecrets, StackModelSchema, type StackModel } from '../stack/stack-model';
import { renderStackFiles, stackDirectories, type StackFile } from '../stack/stack-files';
import { composeArgv, UNIT_NAME, type ComposeCommand } from '../stack/systemd-unit';
import { diagnoseLogs } from './diagnose';

/** What the user chose in the wizard. */
export interface SetupChoices {
  readonly domain: string;
  readonly stackDir: string;
  readonly tls: 'acme' | 'internal';
  readonly email?: string;
  readonly restrictSignIn: boolean;
  readonly allowedPrivateNetworks: readonly string[];
}

/** The model for this server: a re-run keeps the existing database password, setupPassword, url and id. */
export async function planModel(session: SshSession, facts: ServerFacts, choices: SetupChoices): Promise<StackModel> {
  const secrets = newSecrets();
  const model = StackModelSchema.parse({
    domain: choices.domain,
    stackDir: choices.stackDir,
    firewalld: facts.firewalld,
    systemd: facts.systemd,
    db: { password: secrets.dbPassword },
    setupPassword: secrets.setupPassword,
    ...(choices.allowedPrivateNetworks.length > 0 ? { allowedPrivateNetworks: [...choices.allowedPrivateNetworks] } : {}),
    caddy: { tls: choices.tls, restrictSignIn: choices.restrictSignIn, ...(choices.email ? { email: choices.email } : {}) },
  });
  const existing = await readRemoteFile(session, `${model.stackDir}/.config/default.yml`, true);
  return existing ? mergeWithExisting(model, parseExistingConfig(existing.toString('utf8'))) : model;
}

/** The compose command as an absolute path, for argv and the systemd unit. */
export async function composeCommand(session: SshSession, facts: ServerFacts): Promise<ComposeCommand> {
  if (!facts.compose) throw new AppError('REMOTE_COMMAND_FAILED', 'Neither docker compose nor docker-compose is installed');
  const bin = facts.compose.kind === 'v2' ? 'docker' : 'docker-compose';
  const r = await session.exec(['sh', '-c', script('command -v "$1"'), 'ohitori-which', bin]);
  const path = r.stdout.trim();
  if (r.code !== 0 || !path.startsWith('/')) throw new AppError('REMOTE_COMMAND_FAILED', `${bin} was not found on PATH`);
  return { kind: facts.compose.kind, path };
}

async function writeFiles(session: SshSession, model: StackModel, files: readonly StackFile[], ctx: JobContext): Promise<void> {
  for (const d of stackDirectories(model)) {
    await session.check(
      ['install', '-d', '-m', d.mode, ...(d.owner ? ['-o', d.owner.split(':')[0]!, '-g', d.owner.split(':')[1]!] : []), d.path],
      { sudo: true },
    );
  }
  for (const f of files.filter((x) => x.path !== CADDYFILE_PATH)) {
    const r = await writeRemoteFile(session, f.path, f.content, { mode: f.mode, sudo: true, ...(f.owner ? { owner: f.owner } : {}) });
    ctx.log(`${f.path}: ${r.changed ? 'written' : 'unchanged'}${r.previous ? ` (previous kept as ${r.previous})` : ''}`);
  }
}

/**
 * `compose up -d`, streaming its output into the job's log. Under `flock`: when a lost connection
 * left an earlier run's `up` going on the server, this run waits for it instead of racing it.
 */
async function startStack(session: SshSession, compose: ComposeCommand, model: StackModel, ctx: JobContext): Promise<void> {
  const argv = ['flock', '-w', '900', '/run/lock/ohitori-stack.lock', ...composeArgv(compose, model.stackDir), 'up', '-d'];
  const r = await session.exec(argv, {
    sudo: true,
    signal: ctx.signal,
    onStdout: (s) => ctx.log(s.trimEnd()),
    onStderr: (s) => ctx.log(s.trimEnd()),
  });
  if (r.code !== 0) throw await explain(session, compose, model, `compose up failed: ${r.stderr.trim().slice(-400)}`, r.stderr);
}

async function explain(session: SshSession, compose: ComposeCommand, model: StackModel, message: string, extra = ''): Promise<AppError> {
  const logs = await session
    .exec([...composeArgv(compose, model.stackDir), 'logs', '--no-color', '--tail', '200'], { sudo: true })
    .catch(() => undefined);
  const causes = diagnoseLogs(`${extra}\n${logs?.stdout ?? ''}\n${logs?.stderr ?? ''}`);
  const full = causes.includes('diskFull');
  return new AppError(full ? 'DISK_FULL' : 'REMOTE_COMMAND_FAILED', message, { causes, logTail: (logs?.stdout ?? '').slice(-3000) });
}

/** Waits for Misskey to answer on the server itself: `/healthz` (2024.5+), else `/api/meta`. */
async function waitHealthy(
  session: SshSession,
  compose: ComposeCommand,
  model: StackModel,
  ctx: JobContext,
  timeoutMs: number,
): Promise<void> {
  const probe = script(
    'code=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$1/healthz")',
    '[ "$code" = 200 ] && exit 0',
    'code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -H "content-type: application/json" -d "{}" "http://127.0.0.1:$1/api/meta")',
    '[ "$code" = 200 ] && exit 0',
    'exit 1',
  );
  const started = Date.now();
  const seen = new Set<string>();
  for (let i = 0; Date.now() - started < timeoutMs; i++) {
    if (ctx.signal.aborted) throw new AppError('CANCELLED', 'Cancelled');
    const r = await session.exec(['sh', '-c', probe, 'ohitori-health', String(model.webPort)]);
    if (r.code === 0) return;
    // While waiting, the stack's newest log lines go into the job's log (migrations can take minutes).
    const logs = await session.exec([...composeArgv(compose, model.stackDir), 'logs', '--no-color', '--tail', '20'], { sudo: true });
    for (const line of logs.stdout.split('\n').filter((l) => l.trim() && !seen.has(l))) {
      seen.add(line);
      ctx.log(line);
    }
    ctx.progress({ step: 'setup.steps.health', fraction: 0.5 + 0.3 * Math.min(1, (Date.now() - started) / timeoutMs) });
    await new Promise((res) => setTimeout(res, Math.min(500 * 2 ** Math.min(i, 3), 4000)));
  }
  throw await explain(session, compose, model, 'Misskey did not become healthy in time');
}

/** Writes the Caddyfile, validates it with caddy itself, reloads; on any failure the previous file comes back. */
async function applyCaddy(session: SshSession, facts: ServerFacts, file: StackFile, model: StackModel, ctx: JobContext): Promise<void> {
  await session.check(['install', '-d', '-m', '755', model.caddy.accessLog.dir], { sudo: true });
  const w = await writeRemoteFile(session, file.path, file.content, { mode: file.mode, sudo: true });
  const rollback = async (why: string, stderr: string): Promise<never> => {
    if (w.previous) {
      await session.exec(['cp', '-p', w.previous, file.path], { sudo: true });
      await session.exec(['caddy', 'reload', '--config', file.path, '--adapter', 'caddyfile'], { sudo: true });
    }
    throw new AppError('REMOTE_COMMAND_FAILED', `${why}; the previous Caddyfile was restored: ${stderr.trim().slice(-400)}`);
  };
  if (!w.changed && facts.caddyRunning) return void ctx.log('Caddyfile unchanged');
  const v = await session.exec(['caddy', 'validate', '--config', file.path, '--adapter', 'caddyfile'], { sudo: true });
  if (v.code !== 0) return rollback('caddy validate refused the new Caddyfile', v.stderr);
  const reload = facts.caddyRunning
    ? await session.exec(['caddy', 'reload', '--config', file.path, '--adapter', 'caddyfile'], { sudo: true })
    : facts.systemd
      ? await session.exec(['systemctl', 'enable', '--now', 'caddy'], { sudo: true })
      : await session.exec(['caddy', 'start', '--config', file.path, '--adapter', 'caddyfile'], { sudo: true });
  if (reload.code !== 0) return rollback('Caddy did not take the new configuration', reload.stderr);
  ctx.log('Caddy reloaded');
}

/** Asks Caddy on the server for the instance over HTTPS with the real domain name (SNI). */
async function verifyHttps(session: SshSession, model: StackModel): Promise<void> {
  const probe = script(
    'k=""; [ "$2" = internal ] && k="-k"',
    'curl -s $k -o /dev/null -w "%{http_code}" --resolve "$1:443:127.0.0.1" "https://$1/healthz"',
  );
  for (let i = 0; i < 20; i++) {
    const r = await session.exec(['sh', '-c', probe, 'ohitori-https', model.domain, model.caddy.tls]);
    if (r.stdout.trim() === '200') return;
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new AppError('REMOTE_COMMAND_FAILED', `HTTPS on ${model.domain} does not answer through Caddy`);
}

/** The whole apply: files, start, health, Caddy, systemd, HTTPS. Every step is safe to run again. */
export async function applyStack(
  session: SshSession,
  facts: ServerFacts,
  model: StackModel,
  ctx: JobContext,
  healthTimeoutMs = 10 * 60_000,
): Promise<void> {
  const compose = await composeCommand(session, facts);
  const files = renderStackFiles(model, compose);
  ctx.progress({ step: 'setup.steps.files', fraction: 0.2 });
  await writeFiles(session, model, files, ctx);
  ctx.progress({ step: 'setup.steps.start', fraction: 0.35 });
  await startStack(session, compose, model, ctx);
  ctx.progress({ step: 'setup.steps.health', fraction: 0.5 });
  await waitHealthy(session, compose, model, ctx, healthTimeoutMs);
  ctx.progress({ step: 'setup.steps.caddy', fraction: 0.8 });
  await applyCaddy(
    session,
    facts,
    files.find((f) => f.path === CADDYFILE_PATH)!,
    model,
    ctx,
  );
  if (model.systemd) {
    await session.check(['systemctl', 'daemon-reload'], { sudo: true });
    await session.check(['systemctl', 'enable', UNIT_NAME], { sudo: true });
  } else ctx.log('No systemd: the stack comes back after a reboot through Docker’s restart policy');
  ctx.progress({ step: 'setup.steps.https', fraction: 0.9 });
  await verifyHttps(session, model);
}

/**
 * With `tls internal`, browsers and the app must trust Caddy's own root: ask Caddy's admin API on
 * the server (`/pki/ca/local`) for it, so the desktop can pin exactly that certificate.
 */
export async function fetchCaddyLocalRoot(session: SshSession): Promise<string | undefined> {
  const r = await session.exec(['curl', '-sf', 'http://localhost:2019/pki/ca/local']);
  if (r.code !== 0) return undefined;
  try {
    const pem = (JSON.parse(r.stdout) as { root_certificate?: unknown }).root_certificate;
    return typeof pem === 'string' && pem.includes('BEGIN CERTIFICATE') ? pem : undefined;
  } catch {
    return undefined;
  }
}
