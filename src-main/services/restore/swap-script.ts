import { AppError } from '../../shared/errors';
import { JOB_PATHS } from '../backup-job/job-layout';
import { composeArgv, type ComposeCommand } from '../stack/systemd-unit';

/** Where the restore's server half lives and keeps its state. */
export const RESTORE_PATHS = {
  script: '/usr/local/lib/ohitori/ohitori-restore',
  state: '/var/lib/ohitori/restore/state.json',
  log: '/var/lib/ohitori/restore/last.log',
  dir: '/var/lib/ohitori/restore',
} as const;

/** Phases the swap writes to its state file, in order; `healthy` waits for the user's confirmation. */
export const SWAP_PHASES = ['started', 'web-stopped', 'aside', 'db-restored', 'files-in-place', 'web-started', 'healthy'] as const;
export const SWAP_END_STATES = ['healthy', 'confirmed', 'rolled-back', 'failed'] as const;

const PLAIN_PATH = /^(?:\/[A-Za-z0-9._+-]+)+$/;
const PG_IDENT = /^[a-z_][a-z0-9_-]{0,62}$/;
function plain(what: string, value: string, re: RegExp): string {
  if (!re.test(value)) throw new AppError('INVALID_ARGUMENT', `Refusing to write ${what} ${JSON.stringify(value)} into the restore script`);
  return value;
}

/**
 * The server half of a restore: run detached (`setsid`) as root so that a closed laptop or a lost
 * SSH link cannot stop it halfway. It never destroys the current data: the database is renamed to
 * `<db>_pre_<stamp>` and `files/` moved to `files.pre-<stamp>`, both kept until the user confirms.
 * Any failure after the move puts the old data back (rollback) and starts the old stack. Its state
 * file says where it is, so a desktop that reconnects (or runs the restore again) picks up from
 * there; `recover` rolls back a swap whose process died (a server crash) mid-way.
 *
 *   ohitori-restore swap DIR DUMP_SHA FILES_SHA STAMP [BACKUP_ID]   DIR holds db.dump and files.tar (uploaded, verified on the desktop);
 *                                                      BACKUP_ID goes into the state file, so a rerun of the same restore recognises its swap
 *   ohitori-restore recover                            puts the kept-aside data back after an interrupted swap
 *   ohitori-restore confirm                            removes the kept-aside data of a healthy restore
 */
export function renderRestoreScript(opts: { stackDir: string; compose: ComposeCommand; dbName: string; dbUser: string }): string {
  const stack = plain('the stack directory', opts.stackDir, PLAIN_PATH);
  const composeLine = composeArgv(
    { kind: opts.compose.kind, path: plain('the compose command', opts.compose.path, PLAIN_PATH) },
    stack,
  ).join(' ');
  const db = plain('the database name', opts.dbName, PG_IDENT);
  const user = plain('the database user', opts.dbUser, PG_IDENT);
  const R = RESTORE_PATHS;
  return `#!/bin/bash
# Ohitori restore (server half), written by Ohitori. See docs/operations.md "Restore".
set -uo pipefail
umask 077
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STACK=${stack}
COMPOSE=(${composeLine})
DB=${db}
DB_USER=${user}
STATE=${R.state}
BACKUP=
mkdir -p ${R.dir} && chmod 700 ${R.dir}

say() { printf '%s %s\\n' "$(date -u +%H:%M:%S)" "$*" >>${R.log}; }
phase() { # PHASE [STAMP] [MESSAGE]
  printf '{"phase":"%s","stamp":"%s","backup":"%s","pid":%s,"at":"%s","message":"%s"}\\n' "$1" "\${2:-$STAMP}" "$BACKUP" "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "\${3:-}" >"$STATE.tmp" && mv -f "$STATE.tmp" "$STATE"
  say "phase $1 \${3:-}"
}
psql_() { "\${COMPOSE[@]}" exec -T db psql -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 -Atc "$1" </dev/null; }
db_exists() { [ "$(psql_ "select 1 from pg_database where datname = '$1'")" = 1 ]; }
web_healthy() {
  local id i
  for i in $(seq 1 90); do
    id=$("\${COMPOSE[@]}" ps -q web 2>/dev/null)
    if [ -n "$id" ] && [ "$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null)" = healthy ]; then return 0; fi
    sleep 2
  done
  return 1
}
start_db() { "\${COMPOSE[@]}" up -d db redis </dev/null >>${R.log} 2>&1 && for i in $(seq 1 60); do psql_ 'select 1' >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }

rollback() { # put the kept-aside data back and start the old stack
  local stamp=$1
  say "rolling back $stamp"
  "\${COMPOSE[@]}" stop web </dev/null >>${R.log} 2>&1
  start_db || return 1
  if db_exists "\${DB}_pre_$stamp"; then
    psql_ "select pg_terminate_backend(pid) from pg_stat_activity where datname in ('$DB', '\${DB}_pre_$stamp') and pid <> pg_backend_pid()" >/dev/null
    if db_exists "$DB"; then psql_ "drop database \\"$DB\\"" >/dev/null || return 1; fi
    psql_ "alter database \\"\${DB}_pre_$stamp\\" rename to \\"$DB\\"" >/dev/null || return 1
  fi
  if [ -d "$STACK/files.pre-$stamp" ]; then
    rm -rf "$STACK/files.restoring-$stamp"
    if [ -d "$STACK/files" ]; then mv "$STACK/files" "$STACK/files.restoring-$stamp"; fi
    mv "$STACK/files.pre-$stamp" "$STACK/files" && rm -rf "$STACK/files.restoring-$stamp"
  fi
  "\${COMPOSE[@]}" up -d </dev/null >>${R.log} 2>&1
  web_healthy
}

case "\${1:-}" in
  swap)
    DIR=$2; DUMP_SHA=$3; FILES_SHA=$4; STAMP=$5; BACKUP=\${6:-}
    [[ "$STAMP" =~ ^[0-9]{8}t[0-9]{6}$ ]] || { echo "bad stamp"; exit 2; }
    [[ -z "$BACKUP" || "$BACKUP" =~ ^[0-9]{8}T[0-9]{6}Z-[0-9]{8}$ ]] || { echo "bad backup id"; exit 2; }
    exec 8>/run/lock/ohitori-stack.lock; flock -w 600 8 || { phase failed "$STAMP" "the stack is busy"; exit 1; }
    exec 9>${JOB_PATHS.lock}; flock -w 600 9 || { phase failed "$STAMP" "a backup is running"; exit 1; }
    : >${R.log}
    phase started
    [ "$(sha256sum <"$DIR/db.dump" | cut -d' ' -f1)" = "$DUMP_SHA" ] || { phase failed "$STAMP" "the uploaded dump does not match"; exit 1; }
    [ "$(sha256sum <"$DIR/files.tar" | cut -d' ' -f1)" = "$FILES_SHA" ] || { phase failed "$STAMP" "the uploaded files do not match"; exit 1; }
    fail() { phase rolling-back "$STAMP" "$1"; if rollback "$STAMP"; then phase rolled-back "$STAMP" "$1"; else phase failed "$STAMP" "$1; the rollback did not finish: run ohitori-restore recover"; fi; exit 1; }
    "\${COMPOSE[@]}" stop web </dev/null >>${R.log} 2>&1 || { phase failed "$STAMP" "could not stop web"; exit 1; }
    phase web-stopped
    start_db || fail "the database does not start"
    psql_ "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$DB' and pid <> pg_backend_pid()" >/dev/null
    psql_ "alter database \\"$DB\\" rename to \\"\${DB}_pre_$STAMP\\"" >/dev/null || fail "could not move the current database aside"
    mv "$STACK/files" "$STACK/files.pre-$STAMP" || fail "could not move the current files aside"
    phase aside
    psql_ "create database \\"$DB\\" owner \\"$DB_USER\\"" >/dev/null || fail "could not create the new database"
    "\${COMPOSE[@]}" exec -T db pg_restore -U "$DB_USER" -d "$DB" --no-owner --role="$DB_USER" --exit-on-error <"$DIR/db.dump" >>${R.log} 2>&1 || fail "pg_restore failed"
    phase db-restored
    mkdir "$STACK/files" && tar -x -f "$DIR/files.tar" -C "$STACK/files" && chown -R 991:991 "$STACK/files" || fail "could not put the files in place"
    phase files-in-place
    "\${COMPOSE[@]}" up -d </dev/null >>${R.log} 2>&1 || fail "the stack does not start"
    phase web-started
    web_healthy || fail "Misskey did not become healthy"
    rm -rf "$DIR"
    phase healthy
    ;;
  recover)
    cur=$(cat "$STATE" 2>/dev/null || true)
    STAMP=$(printf '%s' "$cur" | grep -oE '"stamp":"[0-9]{8}t[0-9]{6}"' | cut -d'"' -f4)
    BACKUP=$(printf '%s' "$cur" | grep -oE '"backup":"[0-9]{8}T[0-9]{6}Z-[0-9]{8}"' | cut -d'"' -f4)
    [ -n "$STAMP" ] || { echo "nothing to recover"; exit 0; }
    pid=$(printf '%s' "$cur" | grep -oE '"pid":[0-9]+' | cut -d: -f2)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "a restore is still running (pid $pid)"; exit 3; fi
    case "$(printf '%s' "$cur" | grep -oE '"phase":"[a-z-]+"' | cut -d'"' -f4)" in
      healthy|confirmed|rolled-back) echo "nothing to recover"; exit 0 ;;
    esac
    exec 8>/run/lock/ohitori-stack.lock; flock -w 600 8 || exit 1
    if rollback "$STAMP"; then phase rolled-back "$STAMP" "recovered an interrupted restore"; else phase failed "$STAMP" "recovery failed"; exit 1; fi
    ;;
  confirm)
    cur=$(cat "$STATE" 2>/dev/null || true)
    STAMP=$(printf '%s' "$cur" | grep -oE '"stamp":"[0-9]{8}t[0-9]{6}"' | cut -d'"' -f4)
    BACKUP=$(printf '%s' "$cur" | grep -oE '"backup":"[0-9]{8}T[0-9]{6}Z-[0-9]{8}"' | cut -d'"' -f4)
    printf '%s' "$cur" | grep -q '"phase":"healthy"' || { echo "no restore waits for confirmation"; exit 3; }
    exec 8>/run/lock/ohitori-stack.lock; flock -w 600 8 || exit 1
    psql_ "drop database if exists \\"\${DB}_pre_$STAMP\\"" >/dev/null || exit 1
    rm -rf "$STACK/files.pre-$STAMP"
    phase confirmed "$STAMP"
    ;;
  *) echo "usage: ohitori-restore swap|recover|confirm"; exit 2 ;;
esac
`;
}
