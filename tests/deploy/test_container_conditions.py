# SPDX-License-Identifier: Apache-2.0
"""SENTINEL_DEPLOY_STACK=1 (tests/deploy/run sets it when run as root; starts PostgreSQL, RabbitMQ
and Redis from Debian's packages on free ports, ~15 s):
the binaries under the conditions the images and manifests give them, without a Docker engine.

- sentinel-api as uid 10001, no capabilities, no_new_privs, a read-only root, the image's layout
  (/usr/share/sentinel: policies, migrations, web), listening on 0.0.0.0;
- sentinel-worker as root with exactly the ten capabilities, no_new_privs, a read-only root but
  /run, through deploy/scripts/sentinel-worker-start;

then every language's OK program end to end (?wait=true), the page, /ready, the metrics the
dashboards use, and a SIGTERM drain of both."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, WORKER_CAPS, code_metrics

pytestmark = pytest.mark.skipif(os.environ.get("SENTINEL_DEPLOY_STACK") != "1",
                                reason="set SENTINEL_DEPLOY_STACK=1 (starts a stack)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, data=None, timeout=60):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def wait(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http(url, timeout=5)[0] == 200:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def stack():
    # Not below pytest's tmp_path (0700): PostgreSQL's user and uid 10001 must traverse it.
    d = Path(tempfile.mkdtemp(prefix="sentinel-deploy-"))
    os.chmod(d, 0o755)
    ports = {k: free_port() for k in ("SENTINEL_PG_PORT", "SENTINEL_AMQP_PORT", "SENTINEL_AMQP_DIST_PORT",
                                      "SENTINEL_EPMD_PORT", "SENTINEL_REDIS_PORT")}
    env = dict(os.environ, SENTINEL_STACK_DIR=str(d / "state"), **{k: str(v) for k, v in ports.items()})
    services = str(ROOT / "deploy" / "local" / "services")
    r = subprocess.run([services, "start"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    urls = dict(l.replace("export ", "").split("=", 1) for l in (d / "state" / "env").read_text().splitlines() if "=" in l)
    try:
        yield d, urls
    finally:
        subprocess.run([services, "stop"], env=env, capture_output=True, timeout=300)
        if os.environ.get("SENTINEL_KEEP_STACK") != "1":
            shutil.rmtree(d, ignore_errors=True)


def image_layout(root):
    """/usr/share/sentinel as the images have it, below root."""
    build = Path(os.environ.get("SENTINEL_BUILD") or ROOT / "build")
    share = root / "usr" / "share" / "sentinel"
    shutil.copytree(ROOT / "sandbox-policies", share)
    shutil.copytree(ROOT / "migrations", share / "migrations")
    if (ROOT / "web" / "dist" / "index.html").exists():
        shutil.copytree(ROOT / "web" / "dist", share / "web")
    (root / "usr" / "bin").mkdir(parents=True)
    for b in ("api/sentinel-api", "worker/sentinel-worker"):
        shutil.copy2(build / b, root / "usr" / "bin")
    shutil.copy2(ROOT / "deploy" / "scripts" / "sentinel-worker-start", root / "usr" / "bin")
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
    return share


# A private mount namespace whose root is read-only; /run stays writable (a tmpfs in the images).
READ_ONLY_ROOT = ("mount --make-rprivate / && mkdir -p /run/lock && mount --bind /run /run && "
                  "mount -o remount,bind,ro / && exec \"$@\"")


def test_binaries_under_container_conditions(stack):
    d, urls = stack
    tmp_path = d
    root = d / "img"
    share = image_layout(root)
    api_port, ws_port, metrics_port = free_port(), free_port(), free_port()
    common = {"PATH": "/usr/bin:/bin", "SENTINEL_LISTEN_ADDRESS": "0.0.0.0",
              "SENTINEL_POLICY_DIR": str(share), **urls}
    api_env = dict(common, SENTINEL_API_PORT=str(api_port), SENTINEL_WS_PORT=str(ws_port),
                   SENTINEL_MIGRATIONS_DIR=str(share / "migrations"))
    if (share / "web").exists():  # web/dist is built by the web suite; a fresh clone has none yet
        api_env["SENTINEL_WEB_ROOT"] = str(share / "web")
    worker_env = dict(common, SENTINEL_METRICS_PORT=str(metrics_port), SENTINEL_SLOTS="2",
                      SENTINEL_UID_BASE="71000")
    caps = ",".join("+" + c.lower() for c in sorted(WORKER_CAPS))
    api_cmd = ["unshare", "-m", "sh", "-c", READ_ONLY_ROOT, "sh",
               "setpriv", "--reuid", "10001", "--regid", "10001", "--clear-groups", "--bounding-set", "-all",
               "--inh-caps", "-all", "--no-new-privs", str(root / "usr/bin/sentinel-api")]
    worker_cmd = ["unshare", "-m", "sh", "-c", READ_ONLY_ROOT, "sh",
                  "setpriv", f"--bounding-set=-all,{caps}", "--inh-caps=-all", "--no-new-privs",
                  str(root / "usr/bin/sentinel-worker-start"), str(root / "usr/bin/sentinel-worker")]
    logs = {n: open(tmp_path / f"{n}.log", "w") for n in ("api", "worker")}
    api = subprocess.Popen(api_cmd, env=api_env, stdout=logs["api"], stderr=subprocess.STDOUT)
    worker = None
    try:
        base = f"http://127.0.0.1:{api_port}"
        assert wait(base + "/health"), (tmp_path / "api.log").read_text()
        worker = subprocess.Popen(worker_cmd, env=worker_env, stdout=logs["worker"], stderr=subprocess.STDOUT)
        assert wait(f"http://127.0.0.1:{metrics_port}/health"), (tmp_path / "worker.log").read_text()
        assert wait(base + "/ready"), http(base + "/ready")

        status = Path(f"/proc/{api.pid}/status").read_text()
        assert "Uid:\t10001" in status and "CapEff:\t0000000000000000" in status and "NoNewPrivs:\t1" in status

        for lang_dir in sorted((ROOT / "tests" / "langs").iterdir()):
            src = next(lang_dir.iterdir()).read_text()
            code, body = http(base + "/api/v1/submissions?wait=true",
                              json.dumps({"language": lang_dir.name, "source_code": src}).encode(), timeout=120)
            res = json.loads(body) if body else {}
            assert code == 200 and res.get("status") == "ACCEPTED" and res.get("stdout") == "OK\n", \
                (lang_dir.name, code, body, (tmp_path / "worker.log").read_text()[-2000:])

        if (share / "web").exists():
            code, page = http(base + "/")
            assert code == 200 and "<html" in page.lower()
        _, api_metrics = http(base + "/metrics")
        _, worker_metrics = http(f"http://127.0.0.1:{metrics_port}/metrics")
        exposed = {l.split("{")[0].split()[0] for l in (api_metrics + worker_metrics).splitlines()
                   if l and not l.startswith("#")}
        for name, kind in code_metrics().items():
            fam = {name + "_count"} if kind == "histogram" else {name}
            if name.startswith("sentinel_ws_") or name == "sentinel_metrics_dropped_total" or \
                    name == "sentinel_sandbox_failures_total":
                continue   # no sample until the first event of their kind
            assert fam & exposed, name

        for p in (worker, api):
            p.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=45) == 0 and api.wait(timeout=45) == 0
    finally:
        for p in (worker, api):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        for f in logs.values():
            f.close()
