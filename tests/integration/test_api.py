# SPDX-License-Identifier: Apache-2.0
"""The job server end to end: REST API → PostgreSQL → RabbitMQ → worker → Redis → back."""
import concurrent.futures
import json
import pathlib
import uuid

import pytest
import requests

LANGS = pathlib.Path(__file__).resolve().parents[1] / "langs"
FINAL = {"ACCEPTED", "WRONG_ANSWER", "COMPILE_ERROR", "RUNTIME_ERROR", "TIME_LIMIT_EXCEEDED",
         "MEMORY_LIMIT_EXCEEDED", "OUTPUT_LIMIT_EXCEEDED", "SECURITY_VIOLATION", "INTERNAL_ERROR"}
RESULT_FIELDS = {"id", "language", "status", "stdout", "stderr", "compile_output", "exit_code", "signal",
                 "cpu_time", "wall_time", "memory", "message", "created_at", "started_at", "finished_at"}


def source(lang):
    (f,) = list((LANGS / lang).iterdir())
    return f.read_text()


def test_health_ready_languages(api):
    assert api.get("/health").json() == {"status": "ok"}
    r = api.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"postgresql": "ok", "rabbitmq": "ok", "redis": "ok"}
    langs = api.get("/api/v1/languages").json()
    ids = {l["id"] for l in langs}
    assert {"python", "c", "cpp", "javascript", "java", "bash"} <= ids
    assert all("name" in l and "version" in l for l in langs)


@pytest.mark.parametrize("lang", ["python", "c", "cpp", "javascript", "java", "bash"])
def test_every_language_end_to_end(api, lang):
    r = api.post({"language": lang, "source_code": source(lang)}, params={"wait": "true"}, timeout=90)
    assert r.status_code == 200, r.text
    d = r.json()
    assert RESULT_FIELDS <= set(d), d
    assert d["status"] == "ACCEPTED", d
    assert d["stdout"].strip() == "OK", d
    assert d["exit_code"] == 0
    assert d["wall_time"] > 0 and d["memory"] > 0
    # The row says the same.
    g = api.get(f"/api/v1/submissions/{d['id']}").json()
    assert g["status"] == "ACCEPTED" and g["stdout"] == d["stdout"]


def test_submit_then_poll(api):
    r = api.post({"language": "python", "source_code": "print(input()[::-1])", "stdin": "abc\n"})
    assert r.status_code == 202, r.text
    d = r.json()
    assert d["status"] == "QUEUED" and uuid.UUID(d["id"]).version == 7 and d["created_at"].endswith("Z")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    final = api.wait_final(d["id"])
    assert final["status"] == "ACCEPTED" and final["stdout"] == "cba\n"


def test_wrong_answer_and_whitespace_rule(api):
    ok = api.post({"language": "python", "source_code": "print('1 2 ')\nprint()\n", "expected_output": "1 2\n"},
                  params={"wait": "true"}).json()
    assert ok["status"] == "ACCEPTED", ok
    bad = api.post({"language": "python", "source_code": "print(3)", "expected_output": "4"},
                   params={"wait": "true"}).json()
    assert bad["status"] == "WRONG_ANSWER", bad


def test_limits_per_submission(api):
    d = api.post({"language": "python", "source_code": "while True: pass",
                  "limits": {"cpu_time": 0.5, "wall_time": 2}}, params={"wait": "true"}).json()
    assert d["status"] == "TIME_LIMIT_EXCEEDED", d
    assert d["limits"]["cpu_time"] == 0.5
    d = api.post({"language": "python", "source_code": "x = bytearray(200 << 20); print(len(x))",
                  "limits": {"memory": 65536}}, params={"wait": "true"}).json()
    assert d["status"] == "MEMORY_LIMIT_EXCEEDED", d


def test_compile_error_and_runtime_error(api):
    d = api.post({"language": "c", "source_code": "int main( { return 0; }"}, params={"wait": "true"}).json()
    assert d["status"] == "COMPILE_ERROR" and "error" in d["compile_output"], d
    d = api.post({"language": "python", "source_code": "raise SystemExit(3)"}, params={"wait": "true"}).json()
    assert d["status"] == "RUNTIME_ERROR" and d["exit_code"] == 3, d


def test_history_paging(api):
    ids = [api.post({"language": "bash", "source_code": f"echo {i}"}).json()["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/submissions", params=params).json()
        seen += [s["id"] for s in page["submissions"]]
        cursor = page["next_cursor"]
        if not cursor or all(i in seen for i in ids):
            break
    newest_first = [i for i in seen if i in ids]
    assert newest_first == list(reversed(ids))
    assert api.get("/api/v1/submissions", params={"limit": 0}).status_code == 422
    assert api.get("/api/v1/submissions", params={"cursor": "nope"}).status_code == 422


def test_idempotency_key(api):
    key = str(uuid.uuid4())
    body = {"language": "bash", "source_code": "echo once"}
    a = api.post(body, headers={"Idempotency-Key": key})
    b = api.post(body, headers={"Idempotency-Key": key})
    assert a.status_code == 202 and b.status_code in (200, 202), (a.text, b.text)
    assert a.json()["id"] == b.json()["id"]
    c = api.post({"language": "bash", "source_code": "echo other"}, headers={"Idempotency-Key": key})
    assert c.status_code == 422 and c.json()["error"]["field"] == "Idempotency-Key", c.text


def test_get_unknown_and_bad_ids(api):
    r = api.get(f"/api/v1/submissions/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api.get("/api/v1/submissions/not-a-uuid")
    assert r.status_code == 400 and r.json()["error"]["field"] == "id"


def test_many_at_once_all_final(api):
    def one(i):
        return api.post({"language": "python", "source_code": f"print({i})"}).json()["id"]

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        ids = list(ex.map(one, range(30)))
    for i, sid in enumerate(ids):
        d = api.wait_final(sid, 120)
        assert d["status"] == "ACCEPTED" and d["stdout"] == f"{i}\n", d


def test_metrics(api, stack):
    import requests
    text = api.get("/metrics").text
    assert "sentinel_http_requests_total" in text
    w = requests.get(stack.metrics_url + "/metrics", timeout=5).text
    for name in ("sentinel_executions_total", "sentinel_execution_duration_seconds",
                 "sentinel_queue_wait_seconds", "sentinel_workers_active", "sentinel_sandbox_failures_total"):
        assert name in w, name


def test_public_websocket_port_behind_a_proxy(stack):
    """Behind a proxy the page must connect to the port clients reach, not the one we listen on."""
    p, url = stack.start_extra_api("sentinel-api-public-ws", SENTINEL_PUBLIC_WS_PORT=443)
    try:
        cfg = requests.get(url + "/api/v1/config", timeout=10).json()
        assert cfg["ws_port"] == 443, cfg
    finally:
        assert p.stop() == 0, p.log()
    assert requests.get(stack.url + "/api/v1/config", timeout=10).json()["ws_port"] == stack.ports["ws"]


def test_bad_trusted_proxies_refused_at_start(stack):
    import subprocess

    from conftest import BUILD
    env = dict(stack.env(), SENTINEL_TRUSTED_PROXIES="10.0.0.0/8, ingress")
    r = subprocess.run([str(BUILD / "api" / "sentinel-api")], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and 'SENTINEL_TRUSTED_PROXIES: "ingress"' in r.stderr, r


def test_migrations_dir_from_the_configuration(stack, tmp_path):
    """SENTINEL_MIGRATIONS_DIR is where the API takes its migrations from: a directory that is not
    there stops it with a message naming the directory (without the variable, the source tree's
    migrations would be found and the command would succeed)."""
    import subprocess

    from conftest import BUILD
    missing = tmp_path / "no-migrations"
    env = dict(stack.env(), SENTINEL_MIGRATIONS_DIR=str(missing))
    r = subprocess.run([str(BUILD / "api" / "sentinel-api"), "keys", "list"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and f"migrations directory {missing}: No such file or directory" in r.stderr, r


def test_wait_cap_shorter_than_the_timer_tick_is_kept(api, stack):
    """?wait=true answers 202 at SENTINEL_WAIT_MAX_MS even when that is shorter than the wait
    timer's one-second tick: a new waiter whose deadline comes first wakes the timer."""
    import time
    p, url = stack.start_extra_api("sentinel-api-short-wait", SENTINEL_WAIT_MAX_MS=200)
    try:
        for _ in range(3):
            t0 = time.monotonic()
            r = requests.post(url + "/api/v1/submissions", params={"wait": "true"}, timeout=10,
                              json={"language": "python", "source_code": "import time\ntime.sleep(3)\n"})
            elapsed = time.monotonic() - t0
            assert r.status_code == 202, r.text
            assert 0.15 <= elapsed < 0.6, elapsed
    finally:
        assert p.stop() == 0, p.log()
