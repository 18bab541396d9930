# syntax=docker/dockerfile:1
#
# The Overdracht service: compiled once in a build stage, run from `dist/` with production
# dependencies only. docs/operations.md says how to run it; .ci/compiled-start runs the same
# steps without Docker (it reads this file: the build stage's COPY and `npm` RUN lines, the
# runtime stage's COPY and ENV lines, CMD and HEALTHCHECK), so keep those lines one per
# instruction and CMD and HEALTHCHECK in exec (JSON) form.
#
#   docker build -t overdracht .
#
# Node.js 20 is what the project is developed and tested on (package.json: >=20.19); its upstream
# support ended on 30 April 2026, so move to a supported line (node:22-bookworm-slim or newer)
# once the test suite has passed on it: --build-arg NODE_IMAGE=node:22-bookworm-slim. Pin the
# base image by digest in a real deployment (node:20-bookworm-slim@sha256:...).
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, TypeScript compiled to dist/ ---------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# Compiles src, migrations and scripts to dist/ and copies src/fhir/validation-worker.mjs there.
RUN npm run build

# --- runtime: production dependencies and dist/, nothing else ------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# No tsx, no typescript, no test tools: `npm ci --omit=dev` installs package.json's "dependencies".
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The code stays owned by root and read-only to the service. The data folder is the one place it
# writes: embedded PostgreSQL (PGlite) and development mode's keys and BIG register file. Mount a
# volume there when you use either. On a PostgreSQL server with an identity provider the code
# writes nothing there, and the container can run with a read-only root file system.
RUN mkdir -p /var/lib/overdracht && chown 1000:1000 /var/lib/overdracht && chmod 0700 /var/lib/overdracht
ENV HOST=0.0.0.0
ENV PORT=8080
ENV OVERDRACHT_DATA_DIR=/var/lib/overdracht
# The image expects a PostgreSQL server, by default the `postgres` service of compose.yaml as the
# non-owner role of SECURITY.md; give the password in PGPASSWORD, or a whole DATABASE_URL. For
# embedded PostgreSQL instead, run with DATABASE_URL set empty and a volume on the data folder:
#   docker run -e DATABASE_URL= -v overdracht-data:/var/lib/overdracht ...
ENV DATABASE_URL=postgres://overdracht_app@postgres:5432/overdracht
# The `node` user of the base image, by number, so that a runtime can check it is not root.
USER 1000:1000
EXPOSE 8080
# Node's own fetch (the slim image has no curl): 0 when /healthz answers 200 within 4 s. It asks
# 127.0.0.1, which HOST=0.0.0.0 includes; with HOST set to one other address, override this.
# The start period covers a first start on embedded PostgreSQL (initdb inside PGlite, some
# seconds); on a PostgreSQL server the service answers in about a second.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1, without tini: the service handles SIGTERM and SIGINT (in-flight requests
# finish within OVERDRACHT_SHUTDOWN_GRACE_SECONDS, then exit 0) and starts no child processes
# (validation runs in worker threads), so there are no orphans to reap. `docker run --init` adds
# tini all the same if you want it. Give the runtime a stop timeout longer than the grace period:
# docker stop's default of 10 s is shorter than the default 15 s (compose.yaml sets 25 s).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
