# Switchyard container image.
#
#   docker build -t switchyard .
#   docker run --rm -p 8443:8443 \
#     -v "$PWD/switchyard.yaml:/etc/switchyard/switchyard.yaml:ro" \
#     -v "$PWD/certs:/etc/switchyard/certs:ro" \
#     switchyard
#
# The image runs `switchyard run --config /etc/switchyard/switchyard.yaml`; certificate paths in that
# file are relative to it, so `certs/server.pem` means /etc/switchyard/certs/server.pem. Any other
# command works too: `docker run --rm switchyard check --config ...`, `... certs init --dir ...`.

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
EXPOSE 8443
STOPSIGNAL SIGTERM

# There is no HTTP health endpoint yet, so this checks that the listener accepts TCP connections on
# 127.0.0.1:8443 (change the port if your listener uses another, and bind it on 0.0.0.0 or [::]).
# Each check shows up in the log as a "connection refused" line with reason ERR_TLS_HANDSHAKE,
# because the probe closes without a handshake. It switches to the admin API's /readyz endpoint
# once that exists.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:net').connect(8443, '127.0.0.1').setTimeout(3000).on('connect', () => process.exit(0)).on('timeout', () => process.exit(1)).on('error', () => process.exit(1))"]

ENTRYPOINT ["node", "/app/bin/switchyard.js"]
CMD ["run", "--config", "/etc/switchyard/switchyard.yaml"]
