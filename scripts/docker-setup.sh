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
if docker compose version >/dev/null 2>&1; then echo "docker compose"; else echo "docker-compose"; fi
