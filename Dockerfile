# Switchyard container image.
#
#   docker build -t switchyard .
#   docker run --rm -p 8443:8443 -p 127.0.0.1:9090:9090 -e SWITCHYARD_ADMIN__TOKEN="$(openssl rand -hex 32)" \
#     -v "$PWD/switchyard.yaml:/etc/switchyard/switchyard.yaml:ro" \
#     -v "$PWD/certs:/etc/switchyard/certs:ro" \
#     switchyard
#
# The image runs `switchyard run --config /etc/switchyard/switchyard.yaml`; certificate paths in that
# file are relative to it, so `certs/server.pem` means /etc/switchyard/certs/server.pem. Any other
# command works too: `docker run --rm switchyard check --config ...`, `... certs init --dir ...`.
# The shipped configuration (deploy/compose/switchyard.yaml) sets `workers: auto`: one worker per CPU
# the container may use (its --cpus limit when set); set `workers` in your own file likewise. It is
# not forced here with SWITCHYARD_WORKERS, which would override the file.

# ---- build: the full toolchain, compiles TypeScript to dist/ ----------------------------------------
FROM node:20-alpine AS build
WORKDIR /build
COPY package.json package-lock.json ./
# The npm bundled with node:20 (10.x) is used on purpose: it installs from this lock file as it is.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies and compiled JavaScript only ----------------------------------
FROM node:20-alpine AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script, and skipping them keeps a lifecycle script from ever
# needing the dev toolchain here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /build/dist/src ./dist/src
COPY bin ./bin
# `switchyard` on PATH for shells (the compose file's certificate job uses it). The certificate
# directory belongs to the runtime user so a fresh named volume mounted there is writable by it.
RUN ln -s /app/bin/switchyard.js /usr/local/bin/switchyard \
  && mkdir -p /etc/switchyard/certs \
  && chown node:node /etc/switchyard/certs

# The `node` user of the base image (uid 1000, gid 1000).
USER node
# 8443: the listener of the shipped configurations. 9090: the admin API (health, readiness, metrics),
# which the configuration must enable with admin.bind on port 9090 for the health check below.
EXPOSE 8443 9090
STOPSIGNAL SIGTERM

# Asks the admin API's /healthz over HTTP: it answers 200 while the event loop turns, and the probe
# never touches the TLS listener (a TCP probe there would be logged and counted in
# switchyard_rejections_total as ERR_TLS_HANDSHAKE). Reads need no admin token. The image has no
# curl, so node makes the request. A configuration without admin.bind on port 9090 must replace it
# (`docker run --health-cmd ...`) or turn it off (`--no-healthcheck`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:9090/healthz', { timeout: 3000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]

ENTRYPOINT ["node", "/app/bin/switchyard.js"]
CMD ["run", "--config", "/etc/switchyard/switchyard.yaml"]
