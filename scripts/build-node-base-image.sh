#!/usr/bin/env bash
# Builds a Node 20 base image without any image registry, for building
# kiln's Dockerfile offline: `docker build --build-arg BASE_IMAGE=<this>`.
# Debian bookworm minbase (debootstrap, from the apt mirror) with git and
# CA certificates, plus this machine's node binary and npm, and a `node`
# user (uid 1000) as in the official node images. The image is kept once
# built (pass --force to rebuild). Prints the image name.
#   usage: scripts/build-node-base-image.sh [--force] [IMAGE]
set -euo pipefail

force=0
image=kiln-local/node:20-bookworm
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -*) echo "usage: $0 [--force] [IMAGE]" >&2; exit 2 ;;
    *) image="$arg" ;;
  esac
done

if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

node_bin=$(readlink -f "$(command -v node)")
"$node_bin" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "node on this machine is older than 20" >&2; exit 1; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || { echo "npm not found next to node ($npm_dir)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debootstrap is not installed: apt-get install -y debootstrap" >&2; exit 1; }

mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" "$mirror" \
  >/tmp/kiln-node-base.log 2>&1 || { tail -n 20 /tmp/kiln-node-base.log >&2; exit 1; }

install -m 0755 "$node_bin" "$root/usr/local/bin/node"
# Libraries node links against that minbase lacks (none for the official
# builds, which need only libc, libstdc++ and libgcc).
for lib in $(ldd "$node_bin" | awk '/=> \// {print $3}'); do
  [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
done
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
  "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale"

tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["node"]' - "$image" >/dev/null
echo "$image"
