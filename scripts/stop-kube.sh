#!/usr/bin/env bash
# Stops what scripts/start-kube.sh started in $KUBE_DIR (those PIDs only) and
# deletes the dir. Pods are deleted through the API first so the kubelet
# stops their containers; what it leaves in Docker (exited containers it had
# not garbage-collected yet, or all of them when it died first) is removed
# afterwards: dockershim's containers (label io.kubernetes.docker.type), which
# belong to this node since only one kubelet may drive the engine at a time
# (see start-kube.sh).
set -u
D=${KUBE_DIR:-/tmp/kiln-kube}
[ -d "$D" ] || exit 0
uids=""
if [ -f "$D/kubeconfig" ] && grep -q '^kubelet ' "$D/pids" 2>/dev/null; then
  server=$(sed -n 's/.*server: "\(.*\)".*/\1/p' "$D/kubeconfig")
  token=$(cat "$D/token")
  api() { curl -sfk -H "Authorization: Bearer $token" "$@"; }
  uids=$(api "$server/api/v1/pods" | grep -o '"uid": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')
  for ns in $(api "$server/api/v1/namespaces" | grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort -u); do
    api -X DELETE "$server/api/v1/namespaces/$ns/pods?gracePeriodSeconds=0" >/dev/null 2>&1
  done
  for _ in $(seq 1 50); do
    left=""
    for uid in $uids; do [ -n "$(docker ps -q --filter "label=io.kubernetes.pod.uid=$uid")" ] && left=1; done
    [ -z "$left" ] && break
    sleep 0.2
  done
fi
if [ -f "$D/pids" ]; then
  pids=$(awk '{print $2}' "$D/pids")
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  alive=""
  for _ in $(seq 1 30); do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  [ -n "$alive" ] && kill -KILL $alive 2>/dev/null
fi
if grep -q '^kubelet ' "$D/pids" 2>/dev/null; then
  ids=$(docker ps -aq --filter label=io.kubernetes.docker.type)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
fi
# The kubelet leaves bind mounts (secrets, emptyDir tmpfs) under its root dir.
grep " $D/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
rm -rf "$D"
echo "kube stopped, $D removed"
