#!/usr/bin/env bash
# A real single-node Kubernetes v1.20.2 on loopback for kiln's Kubernetes tests:
# etcd (Debian's etcd-server) + kube-apiserver, and unless KUBE_NODE=0 also
# kube-scheduler + kubelet (dockershim, driving the local dockerd), so Pods
# really run. Binaries come from scripts/build-kube.sh (built once, cached
# outside the repository; this script builds them when missing).
#
# Inputs (environment):
#   KUBE_DIR   state dir, must not exist          (default /tmp/kiln-kube)
#   KUBE_BIN   cached binaries                    (default /var/cache/kiln/k8s)
#   KUBE_NODE  1: scheduler + kubelet; 0: API only (default 1)
#   KUBE_NO_BUILD=1  fail (exit 3) instead of building missing binaries
#   API_PORT ETCD_PORT ETCD_PEER_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT
#              ports                              (defaults 16443 12379 12380 10250 10248)
#   NODE_IP    the node's address (default: the source address of the default
#              route). The kubelet refuses a loopback node IP, so it listens
#              there (client certificates only); everything else is loopback.
# Outputs: $KUBE_DIR/kubeconfig (cluster admin over a bearer token),
#   $KUBE_DIR/pids (what scripts/stop-kube.sh stops), logs in $KUBE_DIR/log.
# The node is named `kiln-node` and labelled `kiln.dev/test-node=true`; its
# Pods get host or no networking only (dockerd runs with --bridge=none and no
# CNI plugin is installed). Only one kubelet may drive a Docker engine at a
# time: a kubelet kills the containers of Pods it does not know.
set -euo pipefail
D=${KUBE_DIR:-/tmp/kiln-kube}
BIN=${KUBE_BIN:-/var/cache/kiln/k8s}
NODE=${KUBE_NODE:-1}
API_PORT=${API_PORT:-16443}
ETCD_PORT=${ETCD_PORT:-12379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-12380}
KUBELET_PORT=${KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-10248}
PAUSE_IMAGE=kiln-test/pause:3.4
NODE_IP=${NODE_IP:-$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}
here=$(cd "$(dirname "$0")" && pwd)

t0=$(date +%s.%N)
[ -e "$D" ] && { echo "$D exists; run scripts/stop-kube.sh first" >&2; exit 1; }
[ "$NODE" = 0 ] || [ -n "$NODE_IP" ] || { echo "no default route to take the node IP from: set NODE_IP" >&2; exit 1; }
if [ "${KUBE_NO_BUILD:-0}" = 1 ]; then
  KUBE_BIN="$BIN" bash "$here/build-kube.sh" --check >/dev/null
else
  KUBE_BIN="$BIN" bash "$here/build-kube.sh" >/dev/null
fi
command -v etcd >/dev/null || { echo "etcd is not installed: apt-get install -y etcd-server" >&2; exit 1; }
mkdir -p "$D"/{etcd,certs,log,kubelet,dockershim}
: >"$D/pids"

fail() {
  echo "$1" >&2
  for f in "$D"/log/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
  exit 1
}
wait_for() { # description, tries (0.2 s apart), command...
  local what=$1 tries=$2
  shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail "$what"
}

etcd --name default --data-dir "$D/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
  --unsafe-no-fsync --quota-backend-bytes 1073741824 >"$D/log/etcd.log" 2>&1 &
echo "etcd $!" >>"$D/pids"

# One CA signs the kubelet's serving certificate and the API server's client
# certificate, so the API server verifies the kubelet and the kubelet
# authenticates the API server (logs, attach and exec go that way).
c="$D/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kiln-test-ca \
  -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=kiln-node -keyout "$c/kubelet.key" -out "$c/kubelet.csr" 2>/dev/null
printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:kiln-node\n' "${NODE_IP:-127.0.0.1}" >"$c/kubelet.ext"
openssl x509 -req -in "$c/kubelet.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 2 \
  -extfile "$c/kubelet.ext" -out "$c/kubelet.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver-kubelet-client -keyout "$c/apiserver-kubelet.key" \
  -out "$c/apiserver-kubelet.csr" 2>/dev/null
openssl x509 -req -in "$c/apiserver-kubelet.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 2 \
  -out "$c/apiserver-kubelet.crt" 2>/dev/null
openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
openssl rsa -in "$c/sa.key" -pubout -out "$c/sa.pub" 2>/dev/null
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$TOKEN,admin,admin-uid,system:masters" >"$D/tokens.csv"
echo "$TOKEN" >"$D/token"
chmod 600 "$D/tokens.csv" "$D/token"

wait_for "etcd did not start" 100 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
"$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" --insecure-port=0 \
  --cert-dir="$c" \
  --token-auth-file="$D/tokens.csv" --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$c/sa.pub" --service-account-signing-key-file="$c/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
  --disable-admission-plugins=ServiceAccount \
  --enable-priority-and-fairness=false \
  --kubelet-preferred-address-types=InternalIP \
  --kubelet-certificate-authority="$c/ca.crt" \
  --kubelet-client-certificate="$c/apiserver-kubelet.crt" --kubelet-client-key="$c/apiserver-kubelet.key" \
  >"$D/log/kube-apiserver.log" 2>&1 &
echo "kube-apiserver $!" >>"$D/pids"

cat >"$D/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: { server: "https://127.0.0.1:$API_PORT", insecure-skip-tls-verify: true }
users:
- name: admin
  user: { token: "$TOKEN" }
contexts:
- name: local
  context: { cluster: local, user: admin, namespace: default }
current-context: local
EOF
chmod 600 "$D/kubeconfig"
api() { # path, curl options...
  local path=$1
  shift
  curl -sfk -H "Authorization: Bearer $TOKEN" "$@" "https://127.0.0.1:$API_PORT$path"
}
api_ready() { [ "$(api /readyz)" = ok ]; }
wait_for "kube-apiserver is not ready" 300 api_ready

if [ "$NODE" = 1 ]; then
  # The Pod sandbox image, made locally: no registry is reachable.
  if ! docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
    root=$(mktemp -d)
    cp "$BIN/pause" "$root/pause"
    tar -C "$root" -c pause | docker import -c 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    rm -rf "$root"
  fi
  "$BIN/kube-scheduler" --kubeconfig="$D/kubeconfig" --leader-elect=false \
    --port=0 --secure-port=0 >"$D/log/kube-scheduler.log" 2>&1 &
  echo "kube-scheduler $!" >>"$D/pids"

  cat >"$D/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $c/kubelet.crt
tlsPrivateKeyFile: $c/kubelet.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: false }
  x509: { clientCAFile: $c/ca.crt }
authorization: { mode: AlwaysAllow }
cgroupDriver: cgroupfs
failSwapOn: false
# Never delete the machine's images (the tests' images exist only here), and
# never evict a test's Pod because a shared CI disk is fuller than usual.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
serializeImagePulls: false
nodeStatusUpdateFrequency: 4s
enableControllerAttachDetach: false
EOF
  "$BIN/kubelet" --config="$D/kubelet.yaml" --kubeconfig="$D/kubeconfig" \
    --container-runtime=docker --pod-infra-container-image="$PAUSE_IMAGE" --oom-score-adj=0 \
    --root-dir="$D/kubelet" --experimental-dockershim-root-directory="$D/dockershim" --cert-dir="$c" \
    --container-runtime-endpoint="unix://$D/dockershim.sock" \
    --hostname-override=kiln-node --node-ip="$NODE_IP" --node-labels=kiln.dev/test-node=true \
    >"$D/log/kubelet.log" 2>&1 &
  echo "kubelet $!" >>"$D/pids"
  node_ready() { api /api/v1/nodes/kiln-node | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'; }
  wait_for "the kubelet did not register a Ready node" 300 node_ready
  # The kubelet registers the node tainted not-ready; without a
  # controller-manager nothing would lift the taint once it is Ready.
  api /api/v1/nodes/kiln-node -X PATCH -H 'Content-Type: application/merge-patch+json' \
    -d '{"spec":{"taints":null}}' >/dev/null || fail "could not untaint the node"
fi

t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN{printf "kube up in %.1f s\n", b-a}'
echo "KUBECONFIG=$D/kubeconfig"
