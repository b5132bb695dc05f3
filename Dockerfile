# syntax=docker/dockerfile:1
# gigagate: the gateway and the Bitrix24 app in one process (what `npm start` runs).
# UNTESTED: written where no Docker engine was available; docs/operations.md, "Docker", says what was checked.

# Build stage: production dependencies only. sqlite3 (under @keyv/sqlite) compiles its native
# module when no prebuilt binary fits (package.json "allowScripts"), which needs python3, make and g++.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# Runtime stage: no compilers, no npm step, runs as the image's unprivileged `node` user.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=8080 \
  STORE_URL=sqlite:///app/data/gateway.sqlite
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY gateway ./gateway
COPY b24-app ./b24-app
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8080
# Node itself, so the image needs no curl. /healthz is liveness; /readyz is for a load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and gets SIGTERM itself (no npm in between): it drains for SHUTDOWN_TIMEOUT_MS
# (default 25 s), so give the container a longer stop timeout than that (compose: stop_grace_period).
STOPSIGNAL SIGTERM
# HOST=0.0.0.0 is refused without GATEWAY_API_KEYS (or keys in GATEWAY_CONFIG): set them.
CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "gateway/main.ts"]
