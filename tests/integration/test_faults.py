# SPDX-License-Identifier: Apache-2.0
"""Faults: a worker killed mid-job, dependencies going away and coming back."""
import signal
import time

import pytest

from conftest import wait_http


def test_worker_killed_mid_job_every_submission_final_once(api, stack):
    code = "import time\ntime.sleep(1.5)\nprint('done')\n"
    ids = [api.post({"language": "python", "source_code": code}).json()["id"] for _ in range(6)]
    # Wait until the worker has a job running, then kill it without warning.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(api.get(f"/api/v1/submissions/{i}").json()["status"] == "RUNNING" for i in ids):
            break
        time.sleep(0.05)
    else:
        pytest.fail("no job started")
    stack.worker.signal(signal.SIGKILL)
    stack.worker.proc.wait(10)
    stack.start_worker()
    for i in ids:
        d = api.wait_final(i, 120)
        assert d["status"] == "ACCEPTED" and d["stdout"] == "done\n", d
    # Exactly one final state: the row is final and stays so; no job ran after it finished.
    time.sleep(1)
    for i in ids:
        assert api.get(f"/api/v1/submissions/{i}").json()["status"] == "ACCEPTED"


@pytest.mark.parametrize("service,name", [("redis", "redis"), ("postgres", "postgresql"), ("rabbitmq", "rabbitmq")])
def test_ready_follows_each_dependency(api, stack, service, name):
    stack.services("stop", service)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            r = api.get("/ready")
            if r.status_code == 503:
                break
            time.sleep(0.2)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["checks"][name] == "unreachable" and name in body["error"]["message"], body
        if service == "postgres":
            s = api.post({"language": "python", "source_code": "print(1)"})
            assert s.status_code == 503 and s.headers.get("Retry-After"), s.text
    finally:
        stack.services("start", service)
    wait_http(stack.url + "/ready", 60)
    # And work resumes: the worker reconnects on its own.
    r = api.post({"language": "python", "source_code": "print(2)"}, params={"wait": "true"})
    d = r.json() if r.status_code == 200 else api.wait_final(r.json()["id"], 90)
    assert d["status"] == "ACCEPTED" and d["stdout"] == "2\n", d


def test_worker_drains_on_sigterm(api, stack):
    ids = []
    for _ in range(2):
        r = api.post({"language": "python", "source_code": "import time; time.sleep(1); print('x')"})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            api.get(f"/api/v1/submissions/{i}").json()["status"] == "RUNNING" for i in ids):
        time.sleep(0.05)
    stack.worker.signal(signal.SIGTERM)
    assert stack.worker.proc.wait(30) == 0
    stack.start_worker()
    for i in ids:
        assert api.wait_final(i, 60)["status"] == "ACCEPTED"


def test_api_drains_on_sigterm(api, stack):
    """A waiting request in flight gets its answer (202: the job goes on), the API exits 0, and
    nothing accepted is lost: after a restart the job is final."""
    import threading
    out = {}

    def waiter():
        out["r"] = api.post({"language": "python", "source_code": "import time; time.sleep(2); print('late')"},
                            params={"wait": "true"}, timeout=60)

    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.5)
    stack.api.signal(signal.SIGTERM)
    assert stack.api.proc.wait(30) == 0, stack.api.log()
    t.join(30)
    r = out["r"]
    assert r.status_code in (200, 202), r.text
    sid = r.json()["id"]
    stack.start_api()
    wait_http(stack.url + "/ready", 60)
    assert api.wait_final(sid, 60)["stdout"] == "late\n"


def test_cors_headers_when_configured(stack):
    import requests
    r = requests.options(stack.url + "/api/v1/submissions", timeout=10)
    assert r.status_code == 204 and "POST" in r.headers["Allow"]
    assert "Access-Control-Allow-Origin" not in r.headers  # SENTINEL_CORS_ORIGIN is empty here


def test_poison_job_dead_lettered_others_untouched(api, stack):
    """A job whose worker dies every time it runs it ends INTERNAL_ERROR through the dead-letter
    queue once the delivery limit is spent; jobs run between the crashes are not affected."""
    poison = api.post({"language": "python", "source_code": "import time\ntime.sleep(60)\n"}).json()["id"]
    others = []
    for _ in range(10):  # delivery limit 3: the quorum queue dead-letters on the 4th return
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = api.get(f"/api/v1/submissions/{poison}").json()["status"]
            if status != "QUEUED":
                break
            time.sleep(0.05)
        if status != "RUNNING":
            break
        # While the poison job runs, another job goes through the other slot untouched.
        r = api.post({"language": "python", "source_code": "print('fine')\n"}, path="/api/v1/submissions?wait=true")
        assert r.status_code == 200 and r.json()["status"] == "ACCEPTED", r.text
        others.append(r.json()["id"])
        stack.worker.signal(signal.SIGKILL)
        stack.worker.proc.wait(10)
        stack.start_worker()
    d = api.wait_final(poison, 120)
    assert d["status"] == "INTERNAL_ERROR", d
    assert "dead-lettered" in d["message"], d
    assert len(others) >= 3, f"the poison job ended after {len(others)} crashes"
    for i in others:
        d = api.get(f"/api/v1/submissions/{i}").json()
        assert d["status"] == "ACCEPTED" and d["stdout"] == "fine\n", d
    # The worker is healthy afterwards.
    r = api.post({"language": "python", "source_code": "print('after')\n"}, path="/api/v1/submissions?wait=true")
    assert r.status_code == 200 and r.json()["stdout"] == "after\n", r.text
