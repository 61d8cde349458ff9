import { describe, expect, it } from 'vitest';
import { codeForState } from '../../../src-main/services/backups/backup-verify';
import { postgresMajor } from '../../../src-main/services/backups/dump-check';
import { BACKUP_STATES, drillDueAt, DRILL_INTERVAL_MS } from '../../../src-main/shared/backups';

describe('pg_restore version matching', () => {
  it('reads the major version from manifest versions and from pg_restore --version', () => {
    expect(postgresMajor('15.8')).toBe(15);
    expect(postgresMajor('16')).toBe(16);
    expect(postgresMajor('pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(postgresMajor('PostgreSQL 17.2 on x86_64-pc-linux-musl')).toBe(17);
    expect(postgresMajor(undefined)).toBeUndefined();
    expect(postgresMajor('')).toBeUndefined();
  });
});

describe('verify refusals and the drill schedule', () => {
  it('refuses every flagged state with a BACKUP_* code', () => {
    for (const s of BACKUP_STATES.filter((x) => x !== 'genuine')) expect(codeForState(s)).toMatch(/^BACKUP_/);
    expect(codeForState('replayed')).toBe('BACKUP_REPLAYED');
    expect(codeForState('forged')).toBe('BACKUP_SIGNATURE_INVALID');
  });

  it('is due at once when it never ran, else a week after the last run', () => {
    const now = new Date('2026-11-26T00:00:00Z');
    expect(drillDueAt(undefined, now)).toEqual(now);
    expect(drillDueAt('2026-11-20T00:00:00.000Z', now).getTime()).toBe(Date.parse('2026-11-20T00:00:00Z') + DRILL_INTERVAL_MS);
  });
});
