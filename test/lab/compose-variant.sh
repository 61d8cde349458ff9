#!/usr/bin/env bash
# test/lab/compose-variant.sh <a|b> <both|v1-only|v2-only> — choose which Compose spelling server
# a or b offers, so the app's detection and both code paths get exercised. Only that server's mount
# namespace changes; running sessions see the change at once.
#   both     `docker compose` (CLI-plugin shim onto v1) and `docker-compose`
#   v1-only  no plugin: `docker compose` fails like on a server without the compose plugin
#   v2-only  /usr/bin/docker-compose hidden (whiteout overlay): "command not found", rc 127
# Without a mode it prints the current one.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
s=${1:-}; mode=${2:-}
[[ $s == a || $s == b ]] || die "usage: compose-variant.sh <a|b> [both|v1-only|v2-only]"
sd=$(srv_state "$s")
[ -e "$(mntns_of "$s")" ] || die "lab is not up: run npm run lab:up"
if [ -z "$mode" ]; then cat "$sd/compose-variant"; exit 0; fi
[ "$(id -u)" = 0 ] || die "run as root"
plug=$sd/cli-plugins
want_plugin=1 hide_v1=0
case "$mode" in
  both) ;;
  v1-only) want_plugin=0 ;;
  v2-only) hide_v1=1 ;;
  *) die "unknown mode $mode (both|v1-only|v2-only)" ;;
esac
if [ "$want_plugin" = 1 ]; then
  [ -e "$plug/docker-compose" ] || cp "$plug/.docker-compose.shim" "$plug/docker-compose"
else
  [ -e "$plug/docker-compose" ] && { [ -e "$plug/.docker-compose.shim" ] || cp "$plug/docker-compose" "$plug/.docker-compose.shim"; rm -f "$plug/docker-compose"; }
fi
# Hiding v1: a read-only overlay over /usr/bin whose top layer holds a whiteout for
# docker-compose, so the file really does not exist there ("command not found", rc 127).
dir=$(dirname "$COMPOSE_V1")
hidden() { in_srv "$s" grep -q " $dir .* - overlay ohlab-hide-compose " /proc/self/mountinfo; }
if [ "$hide_v1" = 1 ]; then
  wo=$sd/compose-whiteout
  [ -c "$wo/$(basename "$COMPOSE_V1")" ] || { mkdir -p "$wo" && mknod "$wo/$(basename "$COMPOSE_V1")" c 0 0; }
  hidden || in_srv "$s" mount -t overlay ohlab-hide-compose -o "lowerdir=$wo:$dir" "$dir"
else
  # lazy: the umount binary itself runs from the overlaid /usr/bin
  while hidden; do in_srv "$s" umount -l "$dir"; done
fi
echo "$mode" >"$sd/compose-variant"
echo "server $s: compose variant $mode" >&2
