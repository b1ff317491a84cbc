# SPDX-License-Identifier: Apache-2.0
"""docker-compose.yml: parsed and cross-checked against what the binaries read and listen on;
`docker-compose config -q` (Debian's docker-compose 1.29) when it is installed."""
import copy
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from conftest import ROOT, WORKER_CAPS, check_env_values, compose_doc, config_table, run, setting

CORE = {"postgres", "rabbitmq", "redis", "api", "worker"}
MONITORING = {"prometheus", "grafana", "postgres-exporter", "redis-exporter"}
# Ports the images of the backing services listen on.
SERVICE_PORTS = {"postgres": 5432, "rabbitmq": 5672, "redis": 6379}
SENTINEL_SERVICES = {"api": ("SENTINEL_API_PORT", "SENTINEL_WS_PORT"), "worker": ("SENTINEL_METRICS_PORT",)}


def env_of(svc):
    """The environment, with ${VAR:-default} resolved to its default."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: (None if v is None else re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(v))) for k, v in env.items()}


def published(svc):
    """{container port: host binding} from the short syntax "ip:host:container"."""
    out = {}
    for p in svc.get("ports", []):
        parts = str(p).split(":")
        out[int(parts[-1])] = ":".join(parts[:-1])
    return out


def check_compose(doc):
    problems = []
    services = doc.get("services", {})
    names = set(services)
    if not CORE <= names:
        problems.append(f"missing services: {sorted(CORE - names)}")
    if not MONITORING <= names:
        problems.append(f"missing monitoring services: {sorted(MONITORING - names)}")
    for n, s in services.items():
        profiles = s.get("profiles") or []
        if n in CORE and profiles:
            problems.append(f"{n}: core service behind a profile")
        if n in MONITORING and profiles != ["monitoring"]:
            problems.append(f"{n}: not in the monitoring profile")
        if n in CORE | {"prometheus"} and not s.get("healthcheck", {}).get("test"):
            problems.append(f"{n}: no healthcheck")
        for dep, cond in (s.get("depends_on") or {}).items():
            if dep not in services:
                problems.append(f"{n}: depends on unknown service {dep}")
            elif cond.get("condition") == "service_healthy" and not services[dep].get("healthcheck"):
                problems.append(f"{n}: waits for {dep} to be healthy, but it has no healthcheck")
        for v in s.get("volumes", []):
            src = str(v).split(":")[0]
            if src.startswith("."):
                if not (ROOT / src).exists():
                    problems.append(f"{n}: bind mount source {src} does not exist")
            elif src not in (doc.get("volumes") or {}):
                problems.append(f"{n}: volume {src} is not declared")
        b = s.get("build")
        if b and not (ROOT / b.get("context", ".") / b["dockerfile"]).is_file():
            problems.append(f"{n}: no Dockerfile {b['dockerfile']}")

    for n in ("api", "worker"):
        s = services.get(n)
        if not s:
            continue
        env = env_of(s)
        problems += check_env_values(env, n)
        for k in env:
            if not k.startswith("SENTINEL_"):
                problems.append(f"{n}: {k} is not a variable the binaries read")
        if setting(env, "SENTINEL_LISTEN_ADDRESS") not in ("0.0.0.0", "::"):
            problems.append(f"{n}: SENTINEL_LISTEN_ADDRESS must be 0.0.0.0 in a container")
        for var in SENTINEL_SERVICES[n]:
            port = int(setting(env, var))
            if port not in published(s):
                problems.append(f"{n}: {var}={port} is not published")
        hc = " ".join(map(str, s.get("healthcheck", {}).get("test", [])))
        port = setting(env, SENTINEL_SERVICES[n][0])
        if not re.search(rf"\b{port}\b", hc):
            problems.append(f"{n}: healthcheck does not probe {SENTINEL_SERVICES[n][0]}={port}")
        for var, scheme in (("SENTINEL_DATABASE_URL", "postgresql"), ("SENTINEL_AMQP_URL", "amqp"),
                            ("SENTINEL_REDIS_URL", "redis")):
            u = urlsplit(setting(env, var) or "")
            host = u.hostname
            if u.scheme != scheme or host not in services:
                problems.append(f"{n}: {var} does not name a compose service")
            elif u.port != SERVICE_PORTS.get(host):
                problems.append(f"{n}: {var} port {u.port} is not what {host} listens on")
            elif host not in (s.get("depends_on") or {}):
                problems.append(f"{n}: uses {host} without depending on it")
            elif (s["depends_on"][host] or {}).get("condition") != "service_healthy":
                problems.append(f"{n}: does not wait for {host} to be healthy")

    api, worker = services.get("api", {}), services.get("worker", {})
    if str(api.get("user", "")).split(":")[0] in ("", "0", "root"):
        problems.append("api: must run as a non-root user")
    if api.get("cap_drop") != ["ALL"] or api.get("cap_add"):
        problems.append("api: must drop every capability")
    if not api.get("read_only"):
        problems.append("api: root filesystem should be read-only")
    if worker.get("privileged"):
        problems.append("worker: privileged is more than it needs")
    if worker.get("cap_drop") != ["ALL"] or set(worker.get("cap_add") or []) != WORKER_CAPS:
        problems.append(f"worker: capabilities must be exactly {sorted(WORKER_CAPS)}")
    so = set(worker.get("security_opt") or [])
    if not {"seccomp=unconfined", "apparmor=unconfined"} <= so:
        problems.append("worker: needs seccomp=unconfined and apparmor=unconfined (clone3, unshare, mount)")
    if worker.get("cgroup") != "private":
        problems.append("worker: needs a private cgroup namespace (cgroup: private)")
    if "api" not in (worker.get("depends_on") or {}):
        problems.append("worker: must start after the API applied the migrations")
    return problems


def test_compose_is_consistent():
    assert check_compose(compose_doc()) == []


@pytest.mark.parametrize("breakage", [
    lambda d: d["services"]["api"]["environment"].__setitem__("SENTINEL_API_PROT", "8080"),
    lambda d: d["services"]["api"]["environment"].__setitem__("SENTINEL_API_PORT", "8090"),
    lambda d: d["services"]["worker"]["environment"].__setitem__("SENTINEL_SLOTS", "${SENTINEL_SLOTS:-2000}"),
    lambda d: d["services"]["worker"]["environment"].__setitem__("SENTINEL_LISTEN_ADDRESS", "127.0.0.1"),
    lambda d: d["services"]["worker"]["environment"].__setitem__("SENTINEL_AMQP_URL", "amqp://x@rabbit:5672/"),
    lambda d: d["services"]["worker"]["cap_add"].append("SYS_PTRACE"),
    lambda d: d["services"]["api"].pop("user"),
    lambda d: d["services"]["redis"].pop("healthcheck"),
    lambda d: d["services"]["grafana"].pop("profiles"),
    lambda d: d["services"]["prometheus"]["volumes"].append("./deploy/monitoring/nope.yml:/x"),
    lambda d: d["services"].pop("rabbitmq"),
])
def test_compose_check_can_fail(breakage):
    doc = copy.deepcopy(compose_doc())
    breakage(doc)
    assert check_compose(doc)


def test_compose_defines_the_quorum_queue_broker():
    rmq = compose_doc()["services"]["rabbitmq"]
    assert re.match(r"rabbitmq:3\.(1[2-9]|[2-9]\d)", rmq["image"]), "quorum queues with delivery limits need 3.12+"
    assert rmq.get("hostname"), "a fixed node name keeps the quorum queue's data"


def docker_compose():
    return shutil.which("docker-compose")


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="Debian's docker-compose is not installed")
@pytest.mark.parametrize("profile", [[], ["--profile", "monitoring"]])
def test_docker_compose_config(profile, tmp_path):
    # docker-compose 1.29 predates the Compose Specification's `cgroup` key (docker compose v2
    # knows it): validate a copy without it; test_compose_is_consistent checks it is there.
    text = (ROOT / "docker-compose.yml").read_text()
    text = re.sub(r"(?m)^\s+cgroup: private\n", "", text)
    f = tmp_path / "docker-compose.yml"
    f.write_text(text)
    r = run([docker_compose(), "-f", str(f), "--project-directory", str(ROOT), *profile, "config", "-q"],
            cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    r = run([docker_compose(), "-f", str(f), "--project-directory", str(ROOT), *profile, "config", "--services"],
            cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    # (1.29 lists every service whatever the profile.)
    assert set(r.stdout.split()) == CORE | MONITORING, r.stdout + r.stderr


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="Debian's docker-compose is not installed")
def test_docker_compose_config_can_fail(tmp_path):
    f = tmp_path / "docker-compose.yml"
    f.write_text("services:\n  api:\n    image: x\n    depends_on:\n      db:\n        condition: service_healthy\n")
    r = run([docker_compose(), "-f", str(f), "config", "-q"], cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode != 0


def rabbitmq_schema_keys():
    keys = []
    for f in Path("/usr/lib/rabbitmq/lib").glob("rabbitmq_server-*/plugins/*/priv/schema/*.schema"):
        keys += re.findall(r'\{mapping,\s*"([^"]+)"', f.read_text(errors="replace"))
    return [re.compile("^" + re.escape(k).replace(r"\$", "$").replace("$name", "[^.]+").replace("$node", "[^.]+")
                       .replace("$tag", "[^.]+").replace("$", "[^.]+") + "$") if "$" in k else k for k in keys]


def check_rabbitmq_conf(text, keys):
    problems = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        k = line.split("=", 1)[0].strip()
        if not any(p == k if isinstance(p, str) else p.match(k) for p in keys):
            problems.append(f"unknown rabbitmq.conf key {k}")
    return problems


@pytest.mark.skipif(not list(Path("/usr/lib/rabbitmq/lib").glob("rabbitmq_server-*")),
                    reason="no RabbitMQ schema files here (Debian's rabbitmq-server)")
@pytest.mark.parametrize("conf", ["deploy/docker/rabbitmq/rabbitmq.conf", "deploy/k8s/base/rabbitmq.conf"])
def test_rabbitmq_conf_keys_exist(conf):
    keys = rabbitmq_schema_keys()
    assert check_rabbitmq_conf((ROOT / conf).read_text(), keys) == []
    assert check_rabbitmq_conf("prometheus.tcp.prot = 1\n", keys)
