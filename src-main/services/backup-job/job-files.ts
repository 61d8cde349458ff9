import { AppError } from '../../shared/errors';
import { composeArgv, type ComposeCommand } from '../stack/systemd-unit';
import { EXIT_LOCKED, JOB_CONTAINER, JOB_PATHS, type JobConfig } from './job-layout';

const PLAIN_PATH = /^(?:\/[A-Za-z0-9._+-]+)+$/;
const IMAGE = /^[a-z0-9./:_-]+$/;
const PG_IDENT = /^[a-z_][a-z0-9_-]{0,62}$/;

function plain(what: string, value: string, re: RegExp): string {
  if (!re.test(value)) throw new AppError('INVALID_ARGUMENT', `Refusing to write ${what} ${JSON.stringify(value)} into the backup runner`);
  return value;
}

/**
 * The runner: a bash script the timer (or cron, or the desktop's "Back up now") starts as root.
 * It does what needs the host's Docker CLI — lock, hooks, versions, `pg_dump` inside the db
 * container (found with one `compose ps` per service, then plain `docker exec`), the full read
 * check, the Btrfs snapshot — and hands the rest to the bundled Node job in
 * the pinned Node image. Every value pasted in is checked against a plain character set above;
 * nothing the user typed reaches it unchecked.
 *
 * Plaintext on disk: the dump is written to a file that is unlinked at once and lives only as fd 3
 * (read back through /proc/$$/fd/3), so even a SIGKILL leaves no dump behind; the staging directory
 * is emptied at the start and end of every run. A killed runner cannot be trapped, so the job
 * watches the runner's PID (+ start time) and aborts before its manifest when the runner is gone.
 */
export function renderRunnerScript(config: JobConfig, image: string): string {
  const stack = plain('the stack directory', config.stack.dir, PLAIN_PATH);
  const compose: ComposeCommand = {
    kind: config.stack.compose.kind,
    path: plain('the compose command', config.stack.compose.path, PLAIN_PATH),
  };
  const composeLine = composeArgv(compose, stack).join(' ');
  const img = plain('the image', image, IMAGE);
  const dbUser = plain('the database user', config.stack.dbUser, PG_IDENT);
  const dbName = plain('the database name', config.stack.dbName, PG_IDENT);
  const P = JOB_PATHS;
  return `#!/bin/bash
# Ohitori nightly backup runner, written by Ohitori (docs/operations.md "Nightly backups").
# Re-installing from the app replaces this file; put your own steps in ${P.hooksPre}/ and ${P.hooksPost}/.
#   ohitori-backup run [timer|cron|manual]   one backup (exit 0 only when a backup was stored)
#   ohitori-backup cancel                    stops a running backup
#   ohitori-backup verify-dump FILE SHA256   the dump check alone (checksum + full pg_restore read)
set -uo pipefail
umask 077
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STACK=${stack}
COMPOSE=(${composeLine})
IMAGE=${img}
CONTAINER=${JOB_CONTAINER}
DB_USER=${dbUser}
DB_NAME=${dbName}
STATE=${P.state}
STAGING=${P.staging}
LIB=${P.lib}
LOCK=${P.lock}
PIDFILE=${P.pidFile}
SNAP="$(dirname "$STACK")/.ohitori-snapshot-$(basename "$STACK")"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
say() { printf '%s\\n' "$*"; }
fail() { code=$1; shift; say "@error $code $*"; exit 1; }

# A service's container id, asked once per run: every compose call pays a CLI start-up, docker exec does not.
cid() { "\${COMPOSE[@]}" ps -q "$1" </dev/null 2>/dev/null | head -n1; }

check_dump() { # FILE SHA256: the dump must still be what pg_dump wrote, and pg_restore must read all of it
  # Both reads at once (two cores, the same page-cache pages); both must pass.
  local sum rc db=\${DB_CID:-$(cid db)}
  exec 4< <(sha256sum <"$1" | cut -d' ' -f1)
  docker exec -i "$db" pg_restore -f /dev/null <"$1"; rc=$?
  read -r sum <&4; exec 4<&-
  [ "$sum" = "$2" ] || { say "@error BACKUP_DUMP_FAILED the dump changed after pg_dump wrote it"; return 1; }
  [ "$rc" -eq 0 ] || { say "@error BACKUP_DUMP_FAILED pg_restore could not read the whole dump"; return 1; }
}

drop_snapshot() {
  if [ -d "$SNAP" ]; then btrfs subvolume delete "$SNAP" >/dev/null 2>&1 || say "warning: could not delete the snapshot $SNAP"; fi
}

case "\${1:-run}" in
  run) ;;
  cancel)
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    docker kill -s TERM "$CONTAINER" >/dev/null 2>&1 || true
    if [ -n "$pid" ]; then pkill -TERM -P "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; fi
    exit 0 ;;
  verify-dump)
    check_dump "$2" "$3"; exit $? ;;
  *) say "usage: ohitori-backup run|cancel|verify-dump"; exit 2 ;;
esac

trigger=\${2:-timer}
case "$trigger" in timer|cron|manual) ;; *) trigger=manual ;; esac
mkdir -p "$STATE" "$STAGING" && chmod 700 "$STATE" "$STAGING" || exit 1
exec 9>"$LOCK"
if ! flock -n 9; then say "@error BACKUP_JOB_LOCKED another backup run is in progress"; exit ${EXIT_LOCKED}; fi
echo $$ >"$PIDFILE"
started=$(now); stage=start; code=''; cancelled=0
rm -f "$STATE/job-result.json"
: >"$STATE/last.log"
exec > >(tee -a "$STATE/last.log") 2>&1

record() {
  local rc=$1 result=ok job=null line
  [ "$rc" -ne 0 ] && result=failed
  [ "$cancelled" = 1 ] && result=cancelled
  if [ -s "$STATE/job-result.json" ] && [ "$(head -c1 "$STATE/job-result.json")" = '{' ]; then job=$(head -n1 "$STATE/job-result.json"); fi
  line=$(printf '{"startedAt":"%s","finishedAt":"%s","result":"%s","stage":"%s","code":"%s","trigger":"%s","job":%s}' \\
    "$started" "$(now)" "$result" "$stage" "$code" "$trigger" "$job")
  printf '%s\\n' "$line" >"$STATE/state.json.tmp" && mv -f "$STATE/state.json.tmp" "$STATE/state.json"
  printf '%s\\n' "$line" >>"$STATE/runs.jsonl"
  tail -n 200 "$STATE/runs.jsonl" >"$STATE/runs.jsonl.tmp" && mv -f "$STATE/runs.jsonl.tmp" "$STATE/runs.jsonl"
}
cleanup() {
  local rc=$?
  trap - EXIT TERM INT HUP
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
  exec 3>&- 2>/dev/null
  find "$STAGING" -mindepth 1 -delete 2>/dev/null
  drop_snapshot
  record "$rc"
  rm -f "$PIDFILE"
  say "@finished $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'cancelled=1; code=CANCELLED; say "@error CANCELLED the backup was cancelled"; exit 130' TERM INT HUP

# What a killed run may have left: its container, staging files, its snapshot.
docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
find "$STAGING" -mindepth 1 -delete
drop_snapshot

stage=hooks-pre; say "@stage hooks-pre"
for h in ${P.hooksPre}/*; do
  [ -f "$h" ] && [ -x "$h" ] || continue
  say "pre-hook: $h"
  "$h" </dev/null || fail BACKUP_JOB_FAILED "the pre-hook $h failed"
done

stage=versions; say "@stage versions"
# Asked at once, each answering on its own fd: the containers, then the versions inside them.
exec 5< <(cid db) 6< <(cid redis) 7< <(cid web)
read -r DB_CID <&5; read -r REDIS_CID <&6; read -r WEB_CID <&7; exec 5<&- 6<&- 7<&-
[ -n "$DB_CID" ] || fail BACKUP_DUMP_FAILED "the db container is not running (compose ps found no db)"
probe() { [ -n "$1" ] && docker exec "$@" </dev/null 2>/dev/null; }
exec 5< <(probe "$DB_CID" postgres --version | grep -oE '[0-9]+(\\.[0-9]+)*' | head -n1)
exec 6< <(probe "$REDIS_CID" redis-server --version | grep -oE 'v=[0-9.]+' | head -n1 | cut -c3-)
exec 7< <(probe "$WEB_CID" cat /misskey/package.json | grep -m1 -oE '"version": *"[0-9A-Za-z.+-]+"' | grep -oE '[0-9][0-9A-Za-z.+-]*')
read -r PG_VERSION <&5; read -r REDIS_VERSION <&6; read -r MISSKEY_VERSION <&7; exec 5<&- 6<&- 7<&-
say "versions: misskey \${MISSKEY_VERSION:-?} postgres \${PG_VERSION:-?} redis \${REDIS_VERSION:-?}"
[ -n "$PG_VERSION" ] || fail BACKUP_DUMP_FAILED "the db container is not running (postgres --version failed)"

stage=dump; say "@stage dump"
exec 3>"$STAGING/db.dump" && rm -f "$STAGING/db.dump" || fail DISK_FULL "cannot create the staging file"
DUMP_SHA=$(docker exec "$DB_CID" pg_dump -U "$DB_USER" -Fc -Z0 "$DB_NAME" </dev/null | tee /dev/fd/3 | sha256sum | cut -d' ' -f1) \\
  || fail BACKUP_DUMP_FAILED "pg_dump failed"
DUMP_SIZE=$(stat -L -c %s /proc/$$/fd/3)
[ "$DUMP_SIZE" -gt 0 ] || fail BACKUP_DUMP_FAILED "pg_dump wrote nothing"
say "dump: $DUMP_SIZE bytes"

stage=check; say "@stage check"
check_dump /proc/$$/fd/3 "$DUMP_SHA" || { code=BACKUP_DUMP_FAILED; exit 1; }

stage=snapshot; say "@stage snapshot"
SOURCE=$STACK
if [ "$(stat -f -c %T "$STACK")" = btrfs ] && command -v btrfs >/dev/null && btrfs subvolume show "$STACK" >/dev/null 2>&1; then
  btrfs subvolume snapshot -r "$STACK" "$SNAP" >/dev/null || fail BACKUP_JOB_FAILED "the Btrfs snapshot failed"
  SOURCE=$SNAP; say "files: from a read-only Btrfs snapshot"
else
  say "files: read from the live directory (the stack is not a Btrfs subvolume)"
fi

stage=job; say "@stage job"
stat_line=$(cat /proc/$$/stat); set -- \${stat_line##*) }; RUNNER_START=\${20}
mounts=(-v "$LIB:$LIB:ro" -v ${P.etc}:${P.etc}:ro -v "$STATE:$STATE" -v "$SOURCE:/source:ro")
[ -f /etc/caddy/Caddyfile ] && mounts+=(-v /etc/caddy/Caddyfile:/etc/caddy/Caddyfile:ro)
docker run --rm -i --name "$CONTAINER" --pid=host --network=host --user 0:0 --read-only --tmpfs /tmp:rw,mode=1777 \\
  "\${mounts[@]}" \\
  -e OHITORI_RUNNER_PID=$$ -e OHITORI_RUNNER_START="$RUNNER_START" -e OHITORI_SOURCE=/source \\
  -e OHITORI_DUMP_SIZE="$DUMP_SIZE" -e OHITORI_DUMP_SHA256="$DUMP_SHA" \\
  -e OHITORI_VERSION_MISSKEY="\${MISSKEY_VERSION:-}" -e OHITORI_VERSION_POSTGRES="\${PG_VERSION:-}" -e OHITORI_VERSION_REDIS="\${REDIS_VERSION:-}" \\
  "$IMAGE" node "$LIB/backup-job.mjs" run </proc/$$/fd/3 &
wait $! || { rc=$?; [ "$cancelled" = 1 ] && exit 130; exit "$rc"; }
exec 3>&-

stage=hooks-post; say "@stage hooks-post"
for h in ${P.hooksPost}/*; do
  [ -f "$h" ] && [ -x "$h" ] || continue
  say "post-hook: $h"
  "$h" </dev/null || fail BACKUP_JOB_FAILED "the post-hook $h failed (the backup itself was stored)"
done
stage=done
exit 0
`;
}

/** The service the timer starts. Low priority: a nightly backup must not starve Misskey. */
export function renderBackupService(): string {
  return [
    '# Ohitori nightly backup (one run), written by Ohitori.',
    '[Unit]',
    'Description=Ohitori backup of the Misskey stack',
    'Requires=docker.service',
    'After=docker.service network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${JOB_PATHS.runner} run timer`,
    'Nice=10',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    'TimeoutStartSec=6h',
    '',
  ].join('\n');
}

/** 03:00 local time, spread over 30 minutes, and caught up after the machine was off (Persistent). */
export function renderBackupTimer(): string {
  return [
    '# Ohitori nightly backup schedule, written by Ohitori.',
    '[Unit]',
    'Description=Nightly Ohitori backup at 03:00',
    '',
    '[Timer]',
    'OnCalendar=*-*-* 03:00:00',
    'RandomizedDelaySec=30min',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** For servers without systemd: the same schedule in /etc/cron.d (`%` must be escaped for cron). */
export function renderCronFile(): string {
  return [
    '# Ohitori nightly backup (this server has no systemd), written by Ohitori.',
    'SHELL=/bin/bash',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `0 3 * * * root sleep $((RANDOM \\% 1800)); ${JOB_PATHS.runner} run cron >/dev/null 2>&1`,
    '',
  ].join('\n');
}
