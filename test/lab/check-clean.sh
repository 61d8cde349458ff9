#!/usr/bin/env bash
# test/lab/check-clean.sh — verify that down.sh left nothing of the lab behind. Run after down in
# CI; exits 1 and lists every leftover. Read-only.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
problems=()
bad() { problems+=("$*"); }

# network namespaces and links
ip netns list 2>/dev/null | grep -q ohlab && bad "netns left: $(ip netns list | grep ohlab | tr '\n' ' ')"
ip -o link show 2>/dev/null | grep -q ohlab && bad "links left: $(ip -o link show | grep ohlab | awk -F': ' '{print $2}' | tr '\n' ' ')"
# users, groups, homes, sudoers, sudo state
for u in "${LAB_USERS[@]}"; do
  id "$u" >/dev/null 2>&1 && bad "user $u exists"
  getent group "$u" >/dev/null 2>&1 && bad "group $u exists"
  [ -e "/home/$u" ] && bad "/home/$u exists"
  [ -e "/run/sudo/ts/$u" ] && bad "/run/sudo/ts/$u exists"
  grep -qs "^$u:" /etc/subuid /etc/subgid && bad "subordinate id range for $u left in /etc/subuid or /etc/subgid"
done
for f in "${SUDOERS_FILES[@]}"; do [ -e "$f" ] && bad "sudoers file $f exists"; done
# processes: pid files, the ledger of started pids (pid + start time), and the lab's env tag
for f in $(lab_pidfiles); do [ -e "$f" ] && bad "pid file $f exists"; done
if [ -s "$CACHE_DIR/lab-procs" ]; then
  while read -r pid st name; do
    pid_alive "$pid" || continue
    cur=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null) || continue
    [ "$cur" = "$st" ] && bad "lab process still running: pid $pid ($name)"
  done <"$CACHE_DIR/lab-procs"
fi
for e in /proc/[0-9]*/environ; do
  if { tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qx 'OHITORI_LAB_PROC=1'; then
    p=${e#/proc/}; p=${p%/environ}
    bad "tagged lab process still running: pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-80))"
  fi
done
# mounts (this namespace), persistent mount namespace files, dirs
grep -E "$RUNDIR|$STATE" /proc/self/mountinfo >/dev/null && bad "lab mounts left: $(grep -E "$RUNDIR|$STATE" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')"
for d in "$STATE" "$RUNDIR" "$LAB_ENV_FILE" "$CLI_PLUGIN_DIR/docker-compose"; do [ -e "$d" ] && bad "$d exists"; done
if [ -s "$CACHE_DIR/created-paths.removed" ]; then
  while read -r p; do [ -e "$p" ] && bad "$p (created by the lab) still exists"; done <"$CACHE_DIR/created-paths.removed"
fi
[ -s "$CACHE_DIR/created-paths" ] && bad "$CACHE_DIR/created-paths still lists lab-created paths (down did not finish)"
# a docker0 bridge would mean some dockerd ran without --bridge=none
ip link show docker0 >/dev/null 2>&1 && bad "docker0 bridge exists (was it there before the lab?)"

if [ ${#problems[@]} -gt 0 ]; then
  printf '[lab] check-clean: NOT clean:\n' >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "[lab] check-clean: clean" >&2
