# shellcheck shell=bash
# Shared constants and helpers for the lab scripts (sourced by up.sh, down.sh, check-clean.sh, compose-variant.sh).
# Everything the lab creates on the machine is named here, so down.sh and check-clean.sh can find it again.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$LAB_DIR/../.." && pwd)
LAB_ENV_FILE="$LAB_DIR/state/lab.env"

# Machine-wide locations (outside the repo: several clones on one machine share one lab).
CACHE_DIR=${OHITORI_LAB_CACHE:-/var/cache/ohitori-lab}
STATE=/var/lib/ohitori-lab          # persistent-ish state: docker data roots, per-server file views, keys
RUNDIR=/run/ohitori-lab             # pid files, persistent mount namespaces, sockets
LOGDIR=$STATE/log

BRIDGE=ohlab0
HOST_IP=10.231.0.1
SUBNET_PREFIX=24
SERVERS=(a b)
declare -A SRV_IP=([a]=10.231.0.2 [b]=10.231.0.3)
declare -A SRV_DOMAIN=([a]=a.ohitori.test [b]=b.ohitori.test)
RESTORE_DOMAIN=misskey.ohitori.test
REGISTRY_PORT=5000
S3_PORT=9000
ADMIN_USER=ohadmin
PASS_USER=ohpass
LAB_USERS=("$ADMIN_USER" "$PASS_USER")
SUDOERS_FILES=(/etc/sudoers.d/90-ohlab-ohadmin /etc/sudoers.d/90-ohlab-ohpass)

# Fixed server paths the app writes; each server gets its own directory bound over each of them
# inside its private mount namespace. /tmp and the lab users' homes are per server too, because a
# real "fresh server" would not see files the app staged on the home server.
# /etc/ssh, /etc/apt, /etc/docker, /etc/cron.d and /var/spool/cron are per server too (seeded with a
# copy of the host's), so app code that hardens sshd_config, adds an apt source, edits daemon.json
# or installs a crontab changes that server only, never the host.
SERVER_PATHS=(/var/servers /etc/ohitori /var/lib/ohitori /usr/local/lib/ohitori /etc/caddy /var/lib/caddy /etc/systemd/system /tmp /var/tmp
  "/home/$ADMIN_USER" "/home/$PASS_USER" /etc/ssh /etc/apt /etc/docker /etc/cron.d /var/spool/cron)
SEEDED_PATHS=(/etc/systemd/system /etc/ssh /etc/apt /etc/docker /etc/cron.d /var/spool/cron)
CLI_PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
COMPOSE_V1=/usr/bin/docker-compose

netns_of() { echo "ohlab-$1"; }
mntns_of() { echo "$RUNDIR/mnt-$1"; }
srv_state() { echo "$STATE/$1"; }
srv_root() { echo "$STATE/$1/root"; }          # host path of the server's private view of SERVER_PATHS
srv_run() { echo "$RUNDIR/$1"; }
srv_sock() { echo "$RUNDIR/$1/docker.sock"; }  # host-side path of the server's docker socket

# Run a command "on" server $1: its network namespace + its mount namespace.
in_srv() { local s=$1; shift; nsenter --net="/run/netns/$(netns_of "$s")" --mount="$(mntns_of "$s")" -- "$@"; }
# Docker CLI against server $1's dockerd (from the host).
dk() { local s=$1; shift; DOCKER_HOST="unix://$(srv_sock "$s")" docker "$@"; }

LAB_T0=${LAB_T0:-$(date +%s%3N)}
lab_elapsed() { local ms=$(($(date +%s%3N) - LAB_T0)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
log() { printf '[lab %6ss] %s\n' "$(lab_elapsed)" "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

wait_for() { # wait_for <tenths> cmd... : retry every 0.1 s
  local n=$1; shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# A zombie counts as dead (the lab's daemons are reparented to PID 1, which may reap late).
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}
pidfile_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1"; }

# Stop a process by pid file: TERM, wait up to $2 tenths of a second, then KILL.
stop_pidfile() {
  local f=$1 n=${2:-100} pid
  pid=$(pidfile_pid "$f" || true)
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < n; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && { kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; }
  fi
  rm -f "$f"
}

# All pid files the lab writes (down.sh stops them, check-clean.sh verifies they are gone).
lab_pidfiles() {
  local s
  for s in "${SERVERS[@]}"; do
    echo "$(srv_run "$s")/caddy.pid" "$(srv_run "$s")/sshd.pid" "$(srv_run "$s")/dockerd.pid"
  done
  echo "$RUNDIR/s3rver.pid" "$RUNDIR/registry.pid"
}

# Rootfs cache key: package list + month (Debian point releases move monthly at most).
ROOTFS_PACKAGES=postgresql-15,redis-server,busybox,curl,ca-certificates
rootfs_key() { printf '%s|%s|v1' "$ROOTFS_PACKAGES" "$(date +%Y-%m)" | sha256sum | cut -c1-16; }
rootfs_path() { echo "$CACHE_DIR/rootfs-$(rootfs_key).tar.zst"; }
