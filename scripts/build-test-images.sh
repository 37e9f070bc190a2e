#!/usr/bin/env bash
# Builds the images kiln's tests and the demo use, from Debian packages only:
# no image registry is reachable here, so images come from `docker import` of
# a root filesystem. Images that exist already are kept (pass --force to
# rebuild).
#   kiln-test/busybox:1         busybox-static: the runtime mechanics tests
#   kiln-test/python-sklearn:1  debootstrap minbase + python3 + scikit-learn
#   kiln-examples/python-sklearn:1  the same image, under the tag the iris
#                                   example (pipelines/examples/iris) names
set -euo pipefail

force=0
only=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    busybox|python) only="$arg" ;;
    *) echo "usage: $0 [--force] [busybox|python]" >&2; exit 2 ;;
  esac
done

have_image() { [ "$force" = 0 ] && docker image inspect "$1" >/dev/null 2>&1; }

apt_mirror() {
  # The Debian mirror apt is configured with (deb822 or one-line format).
  local uri
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_busybox() {
  local image=kiln-test/busybox:1
  if have_image "$image"; then echo "image $image present"; return; fi
  local busybox
  busybox=$(command -v busybox || true)
  if [ -z "$busybox" ] || ! file "$busybox" 2>/dev/null | grep -q static; then
    [ -x /bin/busybox ] && busybox=/bin/busybox
  fi
  [ -n "$busybox" ] || { echo "busybox-static is not installed: apt-get install -y busybox-static" >&2; exit 1; }
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >> "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  echo 'nogroup:x:65534:' >> "$root/etc/group"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
  rm -rf "$root"
  echo "image $image built"
}

build_python() {
  local image=kiln-test/python-sklearn:1
  if have_image "$image"; then echo "image $image present"; return; fi
  command -v debootstrap >/dev/null || { echo "debootstrap is not installed: apt-get install -y debootstrap" >&2; exit 1; }
  local root
  root=$(mktemp -d)
  debootstrap --variant=minbase --include=python3-minimal,python3-sklearn \
    bookworm "$root" "$(apt_mirror)" >/tmp/kiln-debootstrap.log 2>&1 \
    || { tail -n 20 /tmp/kiln-debootstrap.log >&2; exit 1; }
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null
  rm -rf "$root"
  echo "image $image built"
}

tag_example() {
  local image=kiln-examples/python-sklearn:1
  if have_image "$image"; then echo "image $image present"; return; fi
  docker tag kiln-test/python-sklearn:1 "$image"
  echo "image $image tagged"
}

[ "$only" = python ] || build_busybox
[ "$only" = busybox ] || { build_python; tag_example; }
