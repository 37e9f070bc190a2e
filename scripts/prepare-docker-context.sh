#!/usr/bin/env bash
# Makes a Docker build context for building kiln's image offline: what the
# Dockerfile needs plus this checkout's node_modules (so `npm ci` is not
# run inside the image; `npm prune --omit=dev --offline` trims it there).
# Prints the context directory (a new temp dir unless one is given).
#   usage: scripts/prepare-docker-context.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "node_modules is missing: run npm ci first" >&2; exit 1; }
ctx=${1:-$(mktemp -d /tmp/kiln-docker-context.XXXXXX)}
mkdir -p "$ctx"
for path in Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json bin src api webhooks node_modules; do
  [ -e "$path" ] && cp -a "$path" "$ctx/"
done
rm -rf "$ctx/node_modules/.cache"
# Keep node_modules in this context: no .dockerignore entry for it.
printf '%s\n' dist '*.log' > "$ctx/.dockerignore"
echo "$ctx"
