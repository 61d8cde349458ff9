import { AppError } from '../../shared/errors';
import type { ServerFacts } from '../../shared/setup';
import { script } from '../ssh/shell-quote';
import type { SshSession } from '../ssh/ssh-session';
import { composeArgv } from '../stack/systemd-unit';
import { composeCommand } from './apply-stack';

export interface DiskUsage {
  readonly filesBytes: number;
  readonly dbBytes: number;
  readonly measuredAt: string;
}

/**
 * How much the instance takes on the server: `du` over the files directory (remote media land
 * there when caching is on) and `pg_database_size` asked of PostgreSQL inside the db container
 * (`exec -T`: no TTY, stdin closed).
 */
export async function measureDiskUsage(session: SshSession, facts: ServerFacts, stackDir: string): Promise<DiskUsage> {
  const du = await session.exec(['du', '-sb', `${stackDir}/files`], { sudo: true });
  const filesBytes = Number(du.stdout.split(/\s/)[0]);
  if (du.code !== 0 || !Number.isFinite(filesBytes)) {
    throw new AppError('REMOTE_COMMAND_FAILED', `Could not measure ${stackDir}/files: ${du.stderr.trim().slice(-300)}`);
  }
  const compose = await composeCommand(session, facts);
  const sql = script('psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "select pg_database_size(current_database())"');
  const db = await session.exec([...composeArgv(compose, stackDir), 'exec', '-T', 'db', 'sh', '-c', sql], { sudo: true });
  const dbBytes = Number(db.stdout.trim());
  if (db.code !== 0 || !Number.isFinite(dbBytes) || db.stdout.trim() === '') {
    throw new AppError('REMOTE_COMMAND_FAILED', `Could not ask PostgreSQL for the database size: ${db.stderr.trim().slice(-300)}`);
  }
  return { filesBytes, dbBytes, measuredAt: new Date().toISOString() };
}
