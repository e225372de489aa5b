#!/usr/bin/env bash
# Make Debian's Chromium available for the dashboard's browser tests (Playwright for Python drives it
# through executable_path; no browser is ever downloaded). Needs root to install. Idempotent; prints
# the browser's path.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
command -v chromium
