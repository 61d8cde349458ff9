#!/usr/bin/env bash
# test/lab/down.sh — tear the Ohitori test lab down and leave the machine as it was (the cache in
# ${OHITORI_LAB_CACHE:-/var/cache/ohitori-lab} stays). Stops only what the lab started: pid files,
# the lab's ledger of started pids, and processes inside the lab's own namespaces. Idempotent.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[ "$(id -u)" = 0 ] || die "run as root"
# The cache dir the running lab was brought up with (OHITORI_LAB_CACHE may differ in this shell).
[ -s "$STATE/cache-dir" ] && CACHE_DIR=$(cat "$STATE/cache-dir")

if [ -d "$CACHE_DIR" ] && [ -z "${OHLAB_LOCK_HELD:-}" ]; then # up.sh holds it when it calls us
  exec 9<"$CACHE_DIR"
  # Do not hang forever: a lab from an older up.sh may have daemons holding the lock.
  flock -w 120 9 || printf '[lab] WARNING: lab lock on %s still held after 120 s; tearing down anyway\n' "$CACHE_DIR" >&2
fi
LEDGER=$CACHE_DIR/lab-procs
CREATED=$CACHE_DIR/created-paths
fail=0
warn() { printf '[lab] WARNING: %s\n' "$*" >&2; fail=1; }

# Kill one pid if its start time matches the ledger (guards against pid reuse).
kill_if_ours() { # pid starttime
  local pid=$1 st=$2 cur
  cur=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) || return 0
  [ "$cur" = "$st" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do pid_alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
}

# 1. containers, then dockerd (which stops its containerd), caddy, sshd — per server
for s in "${SERVERS[@]}"; do
  rd=$(srv_run "$s")
  if pid_alive "$(pidfile_pid "$rd/dockerd.pid" 2>/dev/null || true)"; then
    ids=$(timeout 30 env DOCKER_HOST="unix://$(srv_sock "$s")" docker ps -aq 2>/dev/null)
    [ -n "$ids" ] && timeout 60 env DOCKER_HOST="unix://$(srv_sock "$s")" docker rm -f $ids >/dev/null 2>&1
  fi
  stop_pidfile "$rd/caddy.pid" 50
  stop_pidfile "$rd/dockerd.pid" 200
  stop_pidfile "$rd/sshd.pid" 50
done
stop_pidfile "$RUNDIR/s3rver.pid" 50
stop_pidfile "$RUNDIR/registry.pid" 50

# 2. anything else the lab started (ledger), then processes left inside the lab's network namespaces
#    (SSH sessions, containerd shims): these exist only because the lab created the namespaces.
if [ -s "$LEDGER" ]; then
  while read -r pid st _; do kill_if_ours "$pid" "$st"; done <"$LEDGER"
fi
for s in "${SERVERS[@]}"; do
  ns=$(netns_of "$s")
  if [ -e "/run/netns/$ns" ]; then
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      st=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) && kill_if_ours "$pid" "$st"
    done
  fi
done

# 3. mounts: the persistent mount namespaces (their bind mounts, overlay mounts and dockerd's
#    exec-root/netns/default live only inside them and vanish with them), then the private bind of RUNDIR
for s in "${SERVERS[@]}"; do
  mnt=$(mntns_of "$s")
  if grep -q " $mnt " /proc/self/mountinfo; then umount "$mnt" || warn "umount $mnt failed"; fi
done
# Host-side leftovers from an interrupted older layout (dockerd exec-root nsfs mounts).
grep -E " ($RUNDIR|$STATE)/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || warn "umount $m failed"
done
if mountpoint -q "$RUNDIR" 2>/dev/null; then umount "$RUNDIR" || warn "umount $RUNDIR failed"; fi

# 4. network
for s in "${SERVERS[@]}"; do
  ns=$(netns_of "$s")
  ip link del "$ns-h" 2>/dev/null
  if ip netns list | grep -qw "$ns"; then ip netns del "$ns" || warn "ip netns del $ns failed"; fi
done
ip link show "$BRIDGE" >/dev/null 2>&1 && { ip link del "$BRIDGE" || warn "ip link del $BRIDGE failed"; }

# 5. users, sudoers, sudo's per-user state
for u in "${LAB_USERS[@]}"; do
  if id "$u" >/dev/null 2>&1; then userdel -r "$u" >/dev/null 2>&1 || userdel -rf "$u" >/dev/null 2>&1 || warn "userdel $u failed"; fi
  rm -rf "/run/sudo/ts/$u" "/var/lib/sudo/lectured/$u" "/var/spool/cron/crontabs/$u"
  getent group "$u" >/dev/null 2>&1 && groupdel "$u" 2>/dev/null
  for f in /etc/subuid /etc/subgid; do [ -f "$f" ] && grep -q "^$u:" "$f" && sed -i "/^$u:/d" "$f"; done
done
rm -f "${SUDOERS_FILES[@]}"

# 6. host paths the lab created (deepest first), state, runtime dir, lab.env
if [ -s "$CREATED" ]; then
  tac "$CREATED" | while read -r p; do
    if [ "$p" = /run/docker.sock ]; then
      [ -f "$p" ] && [ ! -s "$p" ] && rm -f "$p"
      continue
    fi
    # `ip netns add` bind-mounts /run/netns onto itself; undo that only when no netns is left in it.
    if [ "$p" = /run/netns ] && [ -d "$p" ] && [ -z "$(ls -A "$p")" ]; then
      while mountpoint -q "$p"; do umount "$p" || break; done
    fi
    if [ -d "$p" ]; then
      find "$p" -depth -type d -empty -delete 2>/dev/null # empty dirs only, never files
      [ -e "$p" ] && warn "$p (created by the lab) is not empty; left in place: $(find "$p" -mindepth 1 | head -3 | tr '\n' ' ')"
    fi
  done
  mv "$CREATED" "$CACHE_DIR/created-paths.removed"
fi
rm -rf "$STATE" "$RUNDIR" || warn "could not remove $STATE or $RUNDIR"
rm -f "$LAB_ENV_FILE"

[ "$fail" = 0 ] && echo "[lab] down: clean" >&2
exit "$fail"
