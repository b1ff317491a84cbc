# SPDX-License-Identifier: Apache-2.0
"""Shared facts for the deployment suite: what the binaries really read, listen on and expose,
read from the C sources (never from the deployment files under test), and the rendered
deployment files. Each checker returns a list of problems; the tests assert it is empty for
the real files and non-empty for a deliberately broken copy (so every check can fail)."""
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")

# The privileges the worker needs (deploy/docker/worker.Dockerfile says why). Compose, Kubernetes
# and systemd must all grant exactly these.
WORKER_CAPS = {"SYS_ADMIN", "NET_ADMIN", "SETUID", "SETGID", "SETPCAP", "CHOWN", "FOWNER",
               "DAC_OVERRIDE", "KILL", "MKNOD"}


# ---- what the binaries read and expose (from the C sources) ---------------------------------

@functools.lru_cache(None)
def config_table():
    """{SENTINEL_* name: default} from common/config.c's config_table[], plus the variables read
    with getenv("SENTINEL_...") anywhere in api/, worker/, common/ (default None)."""
    src = (ROOT / "common" / "config.c").read_text()
    table = src[src.index("config_table[]"):]
    table = table[:table.index("};")]
    out = {}
    for m in re.finditer(r'\b[US]\(\s*"(SENTINEL_[A-Z0-9_]+)"\s*,\s*[\w.]+\s*,\s*("(?:[^"\\]|\\.)*"|\d+)', table):
        d = m.group(2)
        out[m.group(1)] = d[1:-1] if d.startswith('"') else d
    assert len(out) > 40, "could not parse common/config.c's table"
    for d in ("api", "worker", "common"):
        for f in (ROOT / d).rglob("*.c"):
            for m in re.finditer(r'getenv\(\s*"(SENTINEL_[A-Z0-9_]+)"', f.read_text(errors="replace")):
                out.setdefault(m.group(1), None)
    return out


@functools.lru_cache(None)
def config_bounds():
    """{SENTINEL_* numeric variable: (min, max)} from common/config.c's table."""
    src = (ROOT / "common" / "config.c").read_text()
    out = {}
    for m in re.finditer(r'\bU\(\s*"(SENTINEL_[A-Z0-9_]+)"\s*,\s*[\w.]+\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)', src):
        out[m.group(1)] = (int(m.group(3)), int(m.group(4)))
    return out


def check_env_values(env, where):
    """What config_load() would refuse: unknown names, numbers out of bounds or not numbers."""
    problems = []
    for k, v in env.items():
        if not k.startswith("SENTINEL_"):
            continue
        if k not in config_table():
            problems.append(f"{where}: {k} is not a variable the binaries read")
            continue
        if k in config_bounds() and v is not None and not str(v).startswith(("$", "<")):
            lo, hi = config_bounds()[k]
            if not re.fullmatch(r"\d+", str(v)):
                problems.append(f"{where}: {k}={v!r} is not a whole number")
            elif not lo <= int(v) <= hi:
                problems.append(f"{where}: {k}={v} is out of range {lo}..{hi}")
    return problems


def setting(env, name):
    """The value a binary would see for name, given env (a dict): the env, else the default."""
    v = env.get(name)
    return str(v) if v is not None else config_table().get(name)


@functools.lru_cache(None)
def code_metrics():
    """{metric family: counter|gauge|histogram} registered by the binaries."""
    out = {}
    for d in ("api", "worker", "common"):
        for f in list((ROOT / d).rglob("*.c")) + list((ROOT / d).rglob("*.h")):
            text = f.read_text(errors="replace")
            for m in re.finditer(r'metrics_(counter|gauge|histogram)_new\(\s*[^,]+,\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"', text):
                out[m.group(2)] = m.group(1)
            for m in re.finditer(r'#define\s+METRICS_\w*NAME\s+"([a-z_:][a-z0-9_:]*)"', text):
                out[m.group(1)] = "counter"
    assert "sentinel_http_requests_total" in out and "sentinel_executions_total" in out, "metric parse failed"
    return out


def code_series_names():
    """Every series name the binaries expose (histograms as _bucket, _sum, _count)."""
    names = set()
    for n, t in code_metrics().items():
        if t == "histogram":
            names |= {n + "_bucket", n + "_sum", n + "_count"}
        else:
            names.add(n)
    return names


@functools.lru_cache(None)
def exporter_metrics():
    """Series names scraped from the exporters the monitoring files use (exporter-metrics.txt)."""
    lines = (HERE / "exporter-metrics.txt").read_text().splitlines()
    return {l.strip() for l in lines if l.strip() and not l.startswith("#")}


@functools.lru_cache(None)
def route_names():
    src = (ROOT / "api" / "routes.c").read_text()
    names = set(re.findall(r'\{\s*"(?:GET|POST|PUT|DELETE|PATCH)"\s*,\s*"[^"]*"\s*,\s*\w+\s*,\s*"([a-z_]+)"', src))
    assert names, "could not parse the route table in api/routes.c"
    return names | {"unmatched"}


@functools.lru_cache(None)
def verdicts():
    src = (ROOT / "common" / "result.c").read_text() + (ROOT / "common" / "result.h").read_text()
    return set(re.findall(r'"([A-Z][A-Z_]{4,})"', src))


# ---- PromQL: the metric names an expression uses ---------------------------------------------

PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                "group_left", "group_right", "inf", "nan", "Inf", "NaN"}


def promql_names(expr):
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", e):
        rest = e[m.end():].lstrip()
        if m.group(1) in PROMQL_WORDS or rest.startswith("("):
            continue
        names.add(m.group(1))
    return names


def promql_label_values(expr, label):
    return set(re.findall(label + r'\s*(?:=|=~)\s*"([^"]*)"', expr))


def check_promql(expr, where):
    """Problems with an expression: unknown metric names, label values the code never produces."""
    problems = []
    ours, theirs = code_series_names(), exporter_metrics()
    for n in promql_names(expr):
        if n.startswith("sentinel_"):
            if n not in ours:
                problems.append(f"{where}: {n} is not a metric the binaries expose")
            elif n.endswith("_bucket") and code_metrics().get(n[:-7]) != "histogram":
                problems.append(f"{where}: {n} is not a histogram")
        elif n != "up" and n not in theirs:
            problems.append(f"{where}: {n} is neither a Sentinel metric nor one of exporter-metrics.txt")
    for v in promql_label_values(expr, "route"):
        for alt in v.split("|"):
            if alt not in route_names():
                problems.append(f"{where}: route {alt!r} is not a route name in api/routes.c")
    for v in promql_label_values(expr, r"\bstatus"):
        for alt in v.split("|"):
            if re.fullmatch(r"[A-Z_]+", alt) and alt not in verdicts():
                problems.append(f"{where}: status {alt!r} is not a verdict")
    for v in promql_label_values(expr, "queue"):
        q = config_table()["SENTINEL_QUEUE"]
        if v not in (q, q + ".dead"):
            problems.append(f"{where}: queue {v!r} is neither {q} nor {q}.dead")
    return problems


# ---- tools -----------------------------------------------------------------------------------

def promtool():
    p = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not p:
        pytest.fail("promtool not found: tests/deploy/run extracts it from Debian's prometheus package")
    return p


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


@functools.lru_cache(None)
def kustomize(overlay):
    """All objects of an overlay, as kubectl kustomize renders them."""
    if not shutil.which("kubectl"):
        pytest.fail("kubectl not found (kubectl kustomize renders deploy/k8s)")
    r = run(["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(K8S / "overlays" / overlay)])
    assert r.returncode == 0, f"kubectl kustomize {overlay} failed:\n{r.stderr}"
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@functools.lru_cache(None)
def compose_doc():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def load_yaml(path):
    return yaml.safe_load(Path(path).read_text())


@pytest.fixture(params=OVERLAYS)
def overlay(request):
    return request.param
