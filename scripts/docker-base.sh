#!/usr/bin/env bash
# Build the local base image bcfl-base:bookworm from a Debian 12 minbase root filesystem
# (debootstrap), so the images build with no container registry. Idempotent: delete the image
# (docker rmi bcfl-base:bookworm) to rebuild it.
set -euo pipefail
IMAGE=${BCFL_BASE_IMAGE:-bcfl-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "$IMAGE already present"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: run scripts/docker-setup.sh" >&2; exit 1; }
rootfs=$(mktemp -d /tmp/bcfl-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap bookworm into $rootfs"
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
# Trust what this host trusts locally (e.g. a TLS-inspecting proxy's CA), so image builds can
# reach the package registries from behind it. The Dockerfile's ca-certificates install adds them.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
fi
tar -C "$rootfs" -c . | docker import - "$IMAGE" >/dev/null
echo "built $IMAGE"
