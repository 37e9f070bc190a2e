#!/usr/bin/env bash
# The README's test command: sets up what is missing on a Debian machine,
# starts the real services the tests need, runs lint, format check,
# typecheck and every test, and stops what it started.
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

exec 3>/tmp/kiln-setup.out
bash scripts/setup-machine.sh
exec 3>&-
started_dockerd=$(awk '/^started-dockerd/ {print $2}' /tmp/kiln-setup.out)
# dockerd was started by the child script; adopt it so we can stop it.
if [ -n "$started_dockerd" ]; then disown "$started_dockerd" 2>/dev/null || true; fi

[ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund
bash scripts/build-test-images.sh
# kiln/kubernetes: the Kubernetes runtime's tests run a real kube-apiserver and
# kubelet, built once per machine into /var/cache/kiln/k8s (≈ 8 min when absent).
bash scripts/build-kube.sh

echo "== lint"
npx eslint .
npx prettier --check .
npm run -s circular
node scripts/check-file-names.mjs
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== build"
npm run -s build
echo "== tests"
export CI="${CI:-false}"
npx vitest run --reporter=default --reporter=json --outputFile=test-results/vitest.json
node scripts/print-test-summary.mjs test-results/vitest.json
echo "== demo"
# kiln's main job end to end: the iris example pushed to a git server runs
# in containers and the PR comparison is rendered.
npm run -s demo -- --ci
