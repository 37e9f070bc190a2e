#!/usr/bin/env bash
# Installs what kiln and its tests need on a Debian machine, if missing, and
# starts the Docker engine when none answers. Prints `started-dockerd PID` on
# fd 3 when it started one, so the caller can stop it at the end.
set -euo pipefail

need=()
command -v git >/dev/null || need+=(git)
command -v redis-server >/dev/null || need+=(redis-server)
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] && file /bin/busybox 2>/dev/null | grep -q static || dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v chromium >/dev/null || need+=(chromium)
command -v file >/dev/null || need+=(file)
# kiln's step network (network: true) is firewalled with nftables (docs/security.md).
command -v nft >/dev/null || need+=(nftables)
# S3 tests: Ceph's radosgw (started by the tests, scripts/start-ceph-s3.sh)
command -v radosgw >/dev/null || need+=(ceph-mon ceph-osd radosgw ceph-common)

if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The step network's rules must see frames between two steps on its bridge.
[ -d /proc/sys/net/bridge ] || modprobe br_netfilter 2>/dev/null || true

if ! docker version >/dev/null 2>&1; then
  echo "starting dockerd (no default bridge: steps get --network none or kiln's own step network)"
  dockerd --bridge=none --iptables=false --ip-masq=false >/tmp/kiln-dockerd.log 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do
    docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker version >/dev/null 2>&1 || { tail -n 20 /tmp/kiln-dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
  { echo "started-dockerd $pid" >&3; } 2>/dev/null || true
fi
