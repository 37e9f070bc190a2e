#!/usr/bin/env bash
# Stops what scripts/start-ceph-s3.sh started in $CEPH_DIR (the PIDs it
# recorded, and any radosgw whose PID file is in $CEPH_DIR/run), then
# deletes the directory: the data was in memory anyway.
set -u
D=${CEPH_DIR:-/tmp/kiln-ceph-s3}
pids=""
[ -f "$D/pids" ] && pids=$(awk '{print $2}' "$D/pids")
for f in "$D"/run/*.pid; do [ -f "$f" ] && pids="$pids $(cat "$f")"; done
# Only processes of this cluster (their command line names its directory):
# a stale PID file must never make us signal someone else's process.
mine=""
for p in $pids; do
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$D" && mine="$mine $p"
done
pids=$mine
if [ -n "${pids// /}" ]; then
  kill -TERM $pids 2>/dev/null
  alive=""
  for _ in $(seq 1 30); do
    alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  [ -n "$alive" ] && kill -KILL $alive 2>/dev/null
fi
rm -rf "$D"
echo "ceph stopped, $D removed" >&2
