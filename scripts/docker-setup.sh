#!/usr/bin/env bash
# Make `docker compose` usable on a Debian machine: install Debian's docker.io and docker-compose
# (and debootstrap) when missing, start dockerd when it is not running, and build the local base
# image. Needs root. Idempotent; prints the compose command to use.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
if ((${#need[@]})); then
  echo "installing ${need[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd" >&2
  mkdir -p /var/log
  nohup dockerd >/var/log/bcfl-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/bcfl-dockerd.log" >&2; exit 1; }
fi

scripts/docker-base.sh >&2

# Stage the PyTorch CPU wheel for the image (pip inside the build must never fetch a CUDA build).
# Here pip finds it through this machine's local wheel directory.
if ! compgen -G "docker/wheels/torch-2.13.0+cpu-*.whl" >/dev/null; then
  mkdir -p docker/wheels
  python3 -m pip download -q --no-deps --only-binary=:all: "torch==2.13.0+cpu" -d docker/wheels >&2
fi
if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo "docker-compose"; fi
