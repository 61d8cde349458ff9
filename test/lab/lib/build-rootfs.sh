#!/usr/bin/env bash
# Build the shared base rootfs (bookworm minbase + postgresql-15, redis-server, busybox, curl) as a
# .tar.zst in the cache. This is the slow cold step (~1-1.5 min); everything else is built from it.
set -euo pipefail
. "$(dirname "$0")/common.sh"
out=$(rootfs_path)
[ -s "$out" ] && { echo "$out"; exit 0; }
mkdir -p "$CACHE_DIR"
tmp=$(mktemp -d "$CACHE_DIR/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
x=()
for d in doc man info locale lintian; do x+=(--dpkgopt="path-exclude=/usr/share/$d/*"); done
# Same mirrors as the host (bookworm + updates + security), so the image's PostgreSQL matches host apt.
TMPDIR="$tmp" mmdebstrap --quiet --variant=minbase --include="$ROOTFS_PACKAGES" "${x[@]}" \
  --customize-hook='rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15/main "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
  bookworm - "deb http://deb.debian.org/debian bookworm main" \
  "deb http://deb.debian.org/debian bookworm-updates main" \
  "deb http://deb.debian.org/debian-security bookworm-security main" |
  zstd -T0 -q -o "$tmp/rootfs.tar.zst"
mv "$tmp/rootfs.tar.zst" "$out"
# Drop rootfs caches with another key (older month / package list).
find "$CACHE_DIR" -maxdepth 1 -name 'rootfs-*.tar.zst' ! -path "$out" -delete
echo "$out"
