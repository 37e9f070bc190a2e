#!/usr/bin/env bash
# Builds (or reuses) the Kubernetes v1.20.2 binaries the Kubernetes-runtime tests run against:
# kube-apiserver, kube-scheduler, kubelet (1.20 still has dockershim, which drives the local
# dockerd) and kubectl (kustomize and server-side dry-runs of deploy/kubernetes). Source: Debian bookworm's `kubernetes` SOURCE package with its vendored dependencies,
# built offline with Debian's golang-go; only Debian's apt repositories are used and the system's
# apt configuration is not modified (deb-src lives in a private apt state dir under $KUBE_WORK).
# The binaries are cached in $KUBE_BIN (outside the repository); a second run reuses them.
# Usage: KUBE_BIN=/var/cache/kiln/k8s KUBE_WORK=/var/tmp/kiln-kube-build scripts/build-kube.sh [--check]
#   --check: only tell whether the cache is complete (exit 0) or not (exit 3).
# Cost on a fresh 2-core machine: ≈ 8 min, 1.3 GB RAM, ≈ 3 GB under $KUBE_WORK.
set -euo pipefail
BIN=${KUBE_BIN:-/var/cache/kiln/k8s}
W=${KUBE_WORK:-/var/tmp/kiln-kube-build}
VERSION=v1.20.2
# Bump when what this script builds changes, so cached binaries are rebuilt.
RECIPE=kiln-kube-6
TARGETS=(kube-apiserver kube-scheduler kubelet kubectl)

have_all() {
  for t in "${TARGETS[@]}"; do
    [ -x "$BIN/$t" ] && { "$BIN/$t" --version 2>/dev/null || "$BIN/$t" version --client 2>/dev/null; } |
      grep -q "$VERSION" || return 1
  done
  [ -x "$BIN/pause" ] && [ "$(cat "$BIN/recipe" 2>/dev/null)" = "$RECIPE" ]
}
if have_all; then echo "kube binaries cached in $BIN"; exit 0; fi
[ "${1:-}" = --check ] && { echo "kube binaries missing or outdated in $BIN: run scripts/build-kube.sh" >&2; exit 3; }

if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
export DEBIAN_FRONTEND=noninteractive
# gcc: kubelet is linked with cgo. etcd-server, iproute2, openssl, curl: start-kube.sh.
$sudo apt-get install -y -qq --no-install-recommends golang-go golang-github-modern-go-reflect2-dev gcc libc6-dev make rsync ca-certificates \
  etcd-server iproute2 openssl curl >/dev/null
mkdir -p "$W/apt/lists/partial" "$W/apt/parts" "$W/src"
# deb-src entries for the same Debian repositories the machine's apt already uses (deb822 or one-line form).
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed -E 's/^Types:[[:space:]]*deb$/Types: deb-src/' "$f" >"$W/apt/parts/$(basename "$f")"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && grep -E '^deb ' "$f" | sed 's/^deb /deb-src /' >"$W/apt/parts/$(basename "$f").list" || true
done
APTO=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$W/apt/parts" -o "Dir::State::Lists=$W/apt/lists")
cd "$W/src"
if ! ls kubernetes_*.orig.tar.gz >/dev/null 2>&1; then
  $sudo apt-get "${APTO[@]}" update >/dev/null
  $sudo apt-get "${APTO[@]}" source --download-only kubernetes 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
fi
[ -d kubernetes-1.20.2 ] || tar xzf kubernetes_*.orig.tar.gz
cd kubernetes-1.20.*/
start=$(date +%s)
# The vendored github.com/modern-go/reflect2 v1.0.1 calls the Go runtime's map
# iterator with its pre-Go-1.18 signature and a truncated iterator struct:
# built with Go 1.19 the API server corrupts its heap and dies (SIGSEGV) on
# the first map json-iterator encodes. Debian's reflect2 1.0.2 is the fix.
r=vendor/github.com/modern-go/reflect2
rm -rf "$r"
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$r"
# Sandboxed CI machines (like this one) refuse a negative oom_score_adj even
# to root (no CAP_SYS_RESOURCE), and runc then fails every Pod sandbox (-998)
# and every Guaranteed container (-997). This test kubelet uses 0 for both:
# it only changes which Pod the kernel kills first when the node runs out of
# memory, which these tests do not exercise (a container's own limit still
# OOM-kills it).
sed -i 's/^\(\s*defaultSandboxOOMAdj int = \)-998$/\10/' pkg/kubelet/dockershim/docker_sandbox.go
sed -i 's/^\(\s*guaranteedOOMScoreAdj int = \)-997$/\10/' pkg/kubelet/qos/policy.go
grep -q 'defaultSandboxOOMAdj int = 0$' pkg/kubelet/dockershim/docker_sandbox.go && grep -q 'guaranteedOOMScoreAdj int = 0$' pkg/kubelet/qos/policy.go \
  || { echo "could not patch the kubelet's OOM score adjustments" >&2; exit 1; }
# The test node has no Pod network (no CNI; dockerd runs with --bridge=none):
# a Pod's sandbox gets loopback only and no IP, which the kubelet takes for a
# broken sandbox and replaces, killing the Pod. This test kubelet accepts a
# sandbox without an IP: Pods run with loopback only, as kiln's steps
# without `network: true` do under Docker.
f=pkg/kubelet/kuberuntime/kuberuntime_manager.go
sed -i 's/^\(\s*\)if !kubecontainer.IsHostNetworkPod(pod) \&\& sandboxStatus.Network.Ip == "" {$/\1if false \&\& !kubecontainer.IsHostNetworkPod(pod) \&\& sandboxStatus.Network.Ip == "" {/' "$f"
grep -q 'if false && !kubecontainer.IsHostNetworkPod(pod) && sandboxStatus.Network.Ip == ""' "$f" \
  || { echo "could not patch the kubelet's Pod IP check" >&2; exit 1; }
# hack/lib/init.sh builds in GOPATH mode (GO111MODULE=off) from vendor/; no network needed.
what=""
for t in "${TARGETS[@]}"; do what="$what cmd/$t"; done
env GOCACHE="$W/gocache" HOME="$W/home" GOPROXY=off make WHAT="${what# }"
for t in "${TARGETS[@]}"; do $sudo install -D -m 0755 "_output/bin/$t" "$BIN/$t"; done
# The Pod sandbox ("infra") container's program: no registry is reachable, so
# start-kube.sh makes the sandbox image from this static binary.
gcc -Os -Wall -static -DVERSION=v3.4-kiln -o "$W/pause" build/pause/linux/pause.c
$sudo install -m 0755 "$W/pause" "$BIN/pause"
echo "$RECIPE" | $sudo tee "$BIN/recipe" >/dev/null
echo "built ${TARGETS[*]} into $BIN in $(($(date +%s) - start)) s; $W may be deleted"
