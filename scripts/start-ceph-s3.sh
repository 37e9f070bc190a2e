#!/usr/bin/env bash
# A real S3 server for kiln's tests and benchmarks: Ceph's radosgw on one
# monitor and one OSD (memstore: data in RAM), loopback only, no cephx.
# Adapted from the known-working bring-up in the project's infra notes.
# Installs Debian's ceph packages when they are missing (needs root or sudo).
#
#   CEPH_DIR=/tmp/kiln-ceph RGW_PORT=17480 scripts/start-ceph-s3.sh
#   scripts/stop-ceph-s3.sh    (same CEPH_DIR)
#
# Settings (environment): CEPH_DIR (must not exist), RGW_PORT, MON_V2_PORT,
# MON_V1_PORT (free ports are picked when unset), MEMSTORE_BYTES (default
# 2 GiB), S3_ACCESS_KEY / S3_SECRET_KEY. Prints the S3 endpoint and keys as
# environment lines and writes them, last of all, to $CEPH_DIR/s3.env (its
# presence means "ready"). The daemons' PIDs are in $CEPH_DIR/pids. Any
# radosgw name (client.rgw.<id>) can be started against the cluster with
# `radosgw -c $CEPH_DIR/ceph.conf -n client.rgw.<id> --rgw_frontends=...`.
set -euo pipefail
D=${CEPH_DIR:-/tmp/kiln-ceph-s3}
ACCESS_KEY=${S3_ACCESS_KEY:-kilntestaccesskey}
SECRET_KEY=${S3_SECRET_KEY:-kilntestsecretkey}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-2147483648}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
RGW_PORT=${RGW_PORT:-$(free_port)}
MON_V2=${MON_V2_PORT:-$(free_port)}
MON_V1=${MON_V1_PORT:-$(free_port)}

missing=""
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
  command -v "$b" >/dev/null || missing=1
done
if [ -n "$missing" ]; then
  echo "installing Debian's ceph packages (ceph-mon ceph-osd radosgw ceph-common)" >&2
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    ceph-mon ceph-osd radosgw ceph-common >/dev/null
fi

[ -e "$D" ] && { echo "$D exists; run scripts/stop-ceph-s3.sh first" >&2; exit 1; }
t0=$(date +%s.%N)
mkdir -p "$D"/{mon,osd,run,log,rgw,crash}
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF="$D/ceph.conf"
cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind port min = 16800
ms bind port max = 17300
auth cluster required = none
auth service required = none
auth client required = none
mon warn on insecure global id reclaim allowed = false
mon warn on insecure global id reclaim = false
run dir = $D/run
admin socket = $D/run/\$cluster-\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $D/log/cluster.log
crash dir = $D/crash
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# A killed radosgw (tests kill one mid-upload) leaves its watch on the
# control objects; metadata changes (new users, buckets) wait for it until
# the OSD drops it: 10 s instead of 30.
osd client watch timeout = 10
# test-only speedups: commit mon state faster
paxos propose interval = 0.05
paxos min wait = 0.01
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
[mon]
mon data = $D/mon/\$cluster-\$id
[osd]
osd data = $D/osd/\$cluster-\$id
osd memory target = 939524096
memstore device bytes = $MEMSTORE_BYTES
[client]
# Every radosgw (client.rgw.<id>): radosgw defaults to cephx and a secure
# mon connection, both overridden for auth=none.
ms mon client mode = crc
rgw data = $D/rgw/\$id
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
CONF
export CEPH_CONF=$CONF
: > "$D/pids"

# --- mon ---
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$D/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$D/monmap"
ceph-mon -c "$CONF" -i a -f >"$D/log/mon.out" 2>&1 & echo "mon.a $!" >> "$D/pids"
for _ in $(seq 1 100); do ceph -c "$CONF" --connect-timeout 2 mon stat >/dev/null 2>&1 && break; sleep 0.2; done
ceph -c "$CONF" --connect-timeout 5 mon stat >/dev/null

# --- osd ---
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph -c "$CONF" osd new "$OSD_UUID")
mkdir -p "$D/osd/ceph-$OSD_ID"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$D/log/osd-mkfs.err"
ceph-osd -c "$CONF" -i "$OSD_ID" -f >"$D/log/osd.out" 2>&1 & echo "osd.$OSD_ID $!" >> "$D/pids"
for _ in $(seq 1 300); do
  ceph -c "$CONF" osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1' && break; sleep 0.2
done
ceph -c "$CONF" osd stat -f json | grep -q '"num_up_osds":1' || { echo "osd did not come up" >&2; exit 1; }

# --- rgw pools, created at once (else the first requests create them one by one, ~2 s each) ---
pp=()
for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  ( ceph -c "$CONF" osd pool create "$p" 8 8 && ceph -c "$CONF" osd pool application enable "$p" rgw ) >>"$D/log/pools.out" 2>&1 & pp+=($!)
done
wait "${pp[@]}"

# --- radosgw ---
mkdir -p "$D/rgw/a"
radosgw -c "$CONF" -n client.rgw.a -f --rgw_frontends="beast endpoint=127.0.0.1:$RGW_PORT" >"$D/log/rgw.out" 2>&1 & echo "rgw.a $!" >> "$D/pids"
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break; sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" || { echo "radosgw did not answer" >&2; exit 1; }
radosgw-admin -c "$CONF" user create --uid=kiln-test --display-name=kiln-test \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
cat > "$D/s3.env.tmp" <<ENV
AWS_ENDPOINT_URL_S3=http://127.0.0.1:$RGW_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
CEPH_CONF=$CONF
ENV
mv "$D/s3.env.tmp" "$D/s3.env"
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "ceph radosgw up in %.1f s\n", b-a}' >&2
cat "$D/s3.env"
