# syntax=docker/dockerfile:1
# SPDX-License-Identifier: Apache-2.0
# sentinel-worker: takes jobs from RabbitMQ and runs them in sandboxes; metrics and /health on 9090.
#
#   docker build -f deploy/docker/worker.Dockerfile -t sentinel-worker .     (from the repository root)
#
# The language runtimes of sandbox-policies/languages.json live in this image: every sandbox binds
# the image's /usr read-only as its /usr (so nothing else is installed here: no curl, no wget).
#
# What the worker needs from the runtime, and why (see docs/OPERATIONS.md, "Deployment"):
#   - root (uid 0) in the container, no user namespace: each sandbox runs as its own uid from
#     SENTINEL_UID_BASE (60000 up), and the worker changes to it.
#   - capabilities: SYS_ADMIN (mount, pivot_root, clone3/unshare of mount, pid, ipc, uts, net and
#     cgroup namespaces, setns into the pooled network namespaces, remounting its cgroup view),
#     NET_ADMIN (bringing up loopback in each sandbox's network namespace), SETUID and SETGID (the
#     slot's uid), SETPCAP (emptying the bounding set), CHOWN, FOWNER and DAC_OVERRIDE (the job's
#     /box belongs to the slot's uid; the source is written into it), KILL (signalling a sandbox's
#     processes, which run as another uid), MKNOD (null, zero, full, random, urandom in each
#     sandbox's /dev; the default device rules allow exactly those). Drop every other one.
#   - the runtime's default seccomp profile off (seccomp=unconfined / Unconfined): it answers
#     clone3 with ENOSYS (clone3 cannot be filtered by flags, so the profiles refuse it outright or
#     allow it only with CAP_SYS_ADMIN depending on the version), refuses unshare/setns/mount/
#     pivot_root without CAP_SYS_ADMIN, and older ones lack landlock_*. The worker installs its own,
#     stricter filter (sandbox-policies/seccomp) in every sandbox.
#   - AppArmor off for this container (apparmor=unconfined): docker-default and the Kubernetes
#     runtime default deny mount, which every sandbox needs.
#   - cgroup v2: a private cgroup namespace (docker --cgroupns=private, the default on v2 hosts;
#     Kubernetes on v2 always) with the memory and pids controllers. The runtime mounts
#     /sys/fs/cgroup read-only; the entrypoint remounts its own view read-write and puts the slots
#     in a subtree of the container's own cgroup (deploy/scripts/sentinel-worker-start).
#     cgroup v1 or hybrid hosts: not supported in a container (these files handle only v2; run
#     the worker under systemd there, see deploy/systemd).
#   - /run writable (uid locks in /run/lock/sentinel, the launcher's tmpfs mount point).
# --privileged also works, but gives every device and capability: not needed.

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
RUN meson setup /build --prefix=/usr --buildtype=release -Dwerror=false \
    && meson compile -C /build worker/sentinel-worker:executable worker/sentinel-run:executable

# Node.js 20 (the registry's javascript entry runs /usr/bin/node 20; Debian 12 ships 18).
FROM node:20-bookworm-slim AS node

# ---- runtime ---------------------------------------------------------------------------------
FROM debian:bookworm-slim
# Runtimes of sandbox-policies/languages.json: python3 (3.11), gcc/g++ 12 (c, cpp),
# openjdk-17-jdk-headless (java), bash 5.2; node 20 comes from the stage above.
# mount(8) for the entrypoint's cgroup remount. (The man1 directory: slim images drop man pages,
# and the JDK's postinst registers alternatives for them.)
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libjansson4 libseccomp2 libpq5 librabbitmq4 libhiredis0.14 libmicrohttpd12 libssl3 \
        ca-certificates mount \
        python3 gcc g++ libc6-dev openjdk-17-jdk-headless bash \
    && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/bin/node
COPY --from=build /build/worker/sentinel-worker /usr/bin/sentinel-worker
COPY --from=build /build/worker/sentinel-run /usr/bin/sentinel-run
COPY sandbox-policies/ /usr/share/sentinel/
COPY deploy/scripts/sentinel-worker-start /usr/libexec/sentinel/sentinel-worker-start
COPY deploy/docker/healthcheck /usr/libexec/sentinel/healthcheck

# SENTINEL_SLOTS: set it to the CPUs this container may use (the worker counts the host's online
# CPUs, not the container's CPU limit).
ENV SENTINEL_LISTEN_ADDRESS=0.0.0.0 \
    SENTINEL_METRICS_PORT=9090 \
    SENTINEL_POLICY_DIR=/usr/share/sentinel

# Root is required (see above); nothing else runs in this container.
USER 0:0
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/libexec/sentinel/healthcheck", "9090", "/health"]
# SIGTERM: stops taking jobs, finishes or returns the running ones (SENTINEL_SHUTDOWN_GRACE_MS).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/libexec/sentinel/sentinel-worker-start", "/usr/bin/sentinel-worker"]
