# syntax=docker/dockerfile:1
# SPDX-License-Identifier: Apache-2.0
# sentinel-api: the REST gateway (8080), the WebSocket endpoint (8081) and the browser editor.
#
#   docker build -f deploy/docker/api.Dockerfile -t sentinel-api .        (from the repository root)
#
# It needs no privilege at all: it runs as an unprivileged user (uid 10001), binds ports above
# 1024, writes nothing to disk (a read-only root filesystem works), and applies the migrations in
# /usr/share/sentinel/migrations to PostgreSQL at start.

# ---- the browser editor (web/, Vite) -> /web/dist --------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/ ./
# Until web/package.json exists there is no page: an empty dist, and SENTINEL_WEB_ROOT still points
# at it (the API then answers "/" with a short note instead of the editor).
RUN if [ -f package.json ]; then \
        if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi \
        && npm run build; \
    else \
        mkdir -p dist; \
    fi

# ---- the C build -----------------------------------------------------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc meson ninja-build pkg-config libc6-dev \
        libjansson-dev libseccomp-dev libpq-dev librabbitmq-dev libhiredis-dev \
        libmicrohttpd-dev libwebsockets-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# --prefix=/usr: the compiled-in policy and migration directories are /usr/share/sentinel{,/migrations}.
RUN meson setup /build --prefix=/usr --buildtype=release -Dwerror=false \
    && meson compile -C /build api/sentinel-api:executable

# ---- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libjansson4 libpq5 librabbitmq4 libhiredis0.14 libmicrohttpd12 libwebsockets17 libssl3 \
        ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 sentinel \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin sentinel
COPY --from=build /build/api/sentinel-api /usr/bin/sentinel-api
COPY sandbox-policies/ /usr/share/sentinel/
COPY migrations/ /usr/share/sentinel/migrations/
COPY --from=web /web/dist/ /usr/share/sentinel/web/
COPY deploy/docker/healthcheck /usr/libexec/sentinel/healthcheck

ENV SENTINEL_LISTEN_ADDRESS=0.0.0.0 \
    SENTINEL_API_PORT=8080 \
    SENTINEL_WS_PORT=8081 \
    SENTINEL_POLICY_DIR=/usr/share/sentinel \
    SENTINEL_WEB_ROOT=/usr/share/sentinel/web

USER 10001:10001
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/libexec/sentinel/healthcheck", "8080", "/health"]
# SIGTERM: stops accepting, answers what waits, then exits (SENTINEL_SHUTDOWN_GRACE_MS).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/sentinel-api"]
