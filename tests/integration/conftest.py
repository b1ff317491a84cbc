# SPDX-License-Identifier: Apache-2.0
"""The integration suite's stack: PostgreSQL, RabbitMQ and Redis started by deploy/local/services in
a temporary state directory on free ports, then sentinel-api and sentinel-worker from the build
directory. Everything here is real; the fixtures stop what they started, by pid.

Environment: SENTINEL_BUILD (default: build), SENTINEL_KEEP_STACK=1 keeps the state directory."""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

TOP = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("SENTINEL_BUILD", TOP / "build")).resolve()
SERVICES = TOP / "deploy" / "local" / "services"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60, ok=(200,)):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = requests.get(url, timeout=2)
            if r.status_code in ok:
                return r
            last = f"{r.status_code} {r.text[:200]}"
        except requests.RequestException as e:
            last = str(e)
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout} s: {last}")


class Process:
    """A service binary we started, with its log file."""

    def __init__(self, name, argv, env, logdir):
        self.name = name
        self.log_path = logdir / f"{name}.log"
        self.argv = argv
        self.env = env
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


class Stack:
    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="sentinel-it-"))
        os.chmod(self.dir, 0o755)  # PostgreSQL runs as postgres and must reach its data directory
        self.ports = {k: free_port() for k in ("pg", "amqp", "dist", "epmd", "redis", "api", "ws", "metrics")}
        self.svc_env = dict(os.environ, SENTINEL_STACK_DIR=str(self.dir),
                            SENTINEL_PG_PORT=str(self.ports["pg"]), SENTINEL_AMQP_PORT=str(self.ports["amqp"]),
                            SENTINEL_AMQP_DIST_PORT=str(self.ports["dist"]),
                            SENTINEL_EPMD_PORT=str(self.ports["epmd"]), SENTINEL_REDIS_PORT=str(self.ports["redis"]))
        self.api = None
        self.worker = None

    def services(self, *args):
        subprocess.run([str(SERVICES), *args], env=self.svc_env, check=True, timeout=180)

    def env(self):
        env = dict(os.environ)
        env.update({
            "SENTINEL_DATABASE_URL": f"postgresql://sentinel@127.0.0.1:{self.ports['pg']}/sentinel",
            "SENTINEL_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{self.ports['amqp']}/",
            "SENTINEL_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "SENTINEL_API_PORT": str(self.ports["api"]),
            "SENTINEL_WS_PORT": str(self.ports["ws"]),
            "SENTINEL_METRICS_PORT": str(self.ports["metrics"]),
            "SENTINEL_SLOTS": "2",
            "SENTINEL_RELAY_AGE_MS": "2000",
            "SENTINEL_RELAY_INTERVAL_MS": "500",
            "SENTINEL_WAIT_MAX_MS": "20000",
            "SENTINEL_SHUTDOWN_GRACE_MS": "20000",
            "SENTINEL_CONNECTION_TIMEOUT_S": "5",
            # Per-client limits are off for the suite (its bursts come from one address);
            # tests/integration/test_limits.py runs API processes of its own with them on.
            "SENTINEL_RATE_PER_S": "0",
            "SENTINEL_MAX_ACTIVE_PER_CLIENT": "0",
            "SENTINEL_AUTH_REFRESH_MS": "200",
        })
        return env

    @property
    def url(self):
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.ports['ws']}"

    @property
    def metrics_url(self):
        return f"http://127.0.0.1:{self.ports['metrics']}"

    def start_api(self):
        self.api = Process("sentinel-api", [str(BUILD / "api" / "sentinel-api")], self.env(), self.dir).start()
        wait_http(self.url + "/health", 60)
        return self.api

    def start_extra_api(self, name, **overrides):
        """Another sentinel-api on the same stack, on ports of its own, with SENTINEL_* overrides.
        Returns (process, base URL); the caller stops it."""
        env = self.env()
        env.update({"SENTINEL_API_PORT": str(free_port()), "SENTINEL_WS_PORT": str(free_port())})
        env.update({k: str(v) for k, v in overrides.items()})
        p = Process(name, [str(BUILD / "api" / "sentinel-api")], env, self.dir).start()
        url = f"http://127.0.0.1:{env['SENTINEL_API_PORT']}"
        wait_http(url + "/health", 60)
        return p, url

    def sentinel_api(self, *args, check=True):
        """Runs `sentinel-api ARGS...` (the keys command) against the stack's database."""
        return subprocess.run([str(BUILD / "api" / "sentinel-api"), *args], env=self.env(), check=check,
                              capture_output=True, text=True, timeout=60)

    def start_worker(self):
        self.worker = Process("sentinel-worker", [str(BUILD / "worker" / "sentinel-worker")], self.env(),
                              self.dir).start()
        wait_http(self.metrics_url + "/health", 60)
        return self.worker

    def stop(self):
        for p in (self.worker, self.api):
            if p:
                p.stop()
        try:
            self.services("stop")
        finally:
            if os.environ.get("SENTINEL_KEEP_STACK") != "1":
                shutil.rmtree(self.dir, ignore_errors=True)


def check_binaries():
    for b in ("api/sentinel-api", "worker/sentinel-worker"):
        if not (BUILD / b).exists():
            pytest.fail(f"{BUILD / b} is missing: build first (meson compile -C {BUILD})")


def running(s):
    """Starts the stack s (services, API, worker), yields it ready, prints the logs of a failed
    start, and stops everything it started. For session fixtures (`yield from running(s)`)."""
    try:
        s.services("start")
        s.start_api()
        s.start_worker()
        wait_http(s.url + "/ready", 60)
        yield s
    except Exception:
        for p in (s.api, s.worker):
            if p:
                print(f"--- {p.name} log ---\n{p.log()}")
        raise
    finally:
        s.stop()


@pytest.fixture(scope="session")
def stack():
    check_binaries()
    yield from running(Stack())


@pytest.fixture
def api(stack):
    session = requests.Session()
    session.headers["Content-Type"] = "application/json"
    base = stack.url

    class Api:
        url = base

        def post(self, body, path="/api/v1/submissions", **kw):
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            return session.post(base + path, data=data, timeout=kw.pop("timeout", 60), **kw)

        def get(self, path, **kw):
            return session.get(base + path, timeout=kw.pop("timeout", 30), **kw)

        def wait_final(self, sid, timeout=60):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                r = self.get(f"/api/v1/submissions/{sid}")
                if r.status_code == 200 and r.json()["status"] not in ("QUEUED", "RUNNING"):
                    return r.json()
                time.sleep(0.05)
            raise TimeoutError(f"{sid} not final after {timeout} s")

    return Api()
