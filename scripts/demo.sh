#!/usr/bin/env bash
# The README's first command: installs what is missing on a Debian machine
# (git, redis-server, docker.io…), starts dockerd if none answers, installs
# the dependencies, builds the example image, then runs `npm run demo`:
# kiln runs the iris example pushed to a git server, end to end. Arguments
# go to the demo (e.g. --ci). Stops the dockerd it started at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

started_dockerd=""
cleanup() {
  if [ -n "$started_dockerd" ]; then
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
  fi
}
trap cleanup EXIT

exec 3>/tmp/kiln-demo-setup.out
bash scripts/setup-machine.sh
exec 3>&-
started_dockerd=$(awk '/^started-dockerd/ {print $2}' /tmp/kiln-demo-setup.out)
if [ -n "$started_dockerd" ]; then disown "$started_dockerd" 2>/dev/null || true; fi

[ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund
bash scripts/build-test-images.sh python
npm run -s demo -- "$@"
