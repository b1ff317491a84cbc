# SPDX-License-Identifier: Apache-2.0
"""Faults: a worker killed mid-job, dependencies going away and coming back."""
import concurrent.futures
import json
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests
import websocket

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
    """SIGTERM under load: the jobs running finish, the queued ones wait for the next worker; each
    ends once with its own output."""
    ids = []
    for _ in range(2):
        r = api.post({"language": "python", "source_code": "import time; time.sleep(1); print('x')"})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    queued = {k: api.post({"language": "python", "source_code": f"print({k})"}).json()["id"] for k in range(30)}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            api.get(f"/api/v1/submissions/{i}").json()["status"] == "RUNNING" for i in ids):
        time.sleep(0.05)
    stack.worker.signal(signal.SIGTERM)
    assert stack.worker.proc.wait(30) == 0
    stack.start_worker()
    for i in ids:
        assert api.wait_final(i, 60)["status"] == "ACCEPTED"
    for k, i in queued.items():
        assert api.wait_final(i, 60)["stdout"] == f"{k}\n"
    assert_ran_once(stack, ids + list(queued.values()))


def test_api_drains_on_sigterm(api, stack):
    """A waiting request in flight gets its answer (202: the job goes on), the API exits 0, and
    nothing accepted is lost: after a restart the job is final."""
    waiting = post_waiting(api, "import time; time.sleep(2); print('late')")
    time.sleep(0.5)
    stack.api.signal(signal.SIGTERM)
    assert stack.api.proc.wait(30) == 0, stack.api.log()
    r = waiting.result(30)
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


def psql(stack, sql):
    url = stack.env()["SENTINEL_DATABASE_URL"]
    return subprocess.run(["psql", "-qAt", url, "-c", sql], check=True, capture_output=True, text=True,
                          timeout=60).stdout


def assert_ran_once(stack, ids):
    """Each job was claimed exactly once (attempts counts the claims that started a run)."""
    quoted = ",".join(f"'{i}'" for i in ids)
    rows = psql(stack, f"SELECT id, attempts FROM submissions WHERE id IN ({quoted}) AND attempts <> 1")
    assert rows.strip() == "", f"jobs run more than once (or never):\n{rows}"


def test_all_workers_down_jobs_wait_and_finish(api, stack):
    stack.worker.signal(signal.SIGKILL)
    stack.worker.proc.wait(10)
    try:
        ids = [api.post({"language": "python", "source_code": f"print({n})\n"}).json()["id"] for n in range(20)]
        time.sleep(1)
        assert all(api.get(f"/api/v1/submissions/{i}").json()["status"] == "QUEUED" for i in ids)
    finally:
        stack.start_worker()
    for n, i in enumerate(ids):
        d = api.wait_final(i, 120)
        assert d["status"] == "ACCEPTED" and d["stdout"] == f"{n}\n", d
    assert_ran_once(stack, ids)


def test_rabbitmq_restart_during_a_burst_loses_and_repeats_nothing(api, stack):
    """500 submissions while the broker goes down and comes back: every one is accepted (the row is
    committed; the relay publishes what the broker could not confirm), reaches one final state
    with its own output, and runs once."""
    n = 500
    accepted = {}
    errors = []

    def burst(lo, hi):
        s = requests.Session()
        s.headers["Content-Type"] = "application/json"
        for k in range(lo, hi):
            r = s.post(stack.url + "/api/v1/submissions",
                       data=json.dumps({"language": "python", "source_code": f"print({k})\n"}), timeout=60)
            if r.status_code == 202:
                accepted[k] = r.json()["id"]
            else:
                errors.append((k, r.status_code, r.text[:200]))

    threads = [threading.Thread(target=burst, args=(t * n // 4, (t + 1) * n // 4)) for t in range(4)]
    for t in threads:
        t.start()
    while len(accepted) < n // 5:
        time.sleep(0.01)
    stack.services("stop", "rabbitmq")
    time.sleep(1)
    stack.services("start", "rabbitmq")
    for t in threads:
        t.join(300)
    assert not errors, errors[:5]
    assert len(accepted) == n
    for k, i in accepted.items():
        d = api.wait_final(i, 300)
        assert d["status"] == "ACCEPTED" and d["stdout"] == f"{k}\n", d
    assert_ran_once(stack, accepted.values())


def in_outbox(stack, sid):
    return psql(stack, f"SELECT count(*) FROM sentinel_outbox WHERE id = '{sid}'").strip() == "1"


def wait_out_of_outbox(stack, sid, timeout):
    deadline = time.monotonic() + timeout
    while in_outbox(stack, sid):
        assert time.monotonic() < deadline, f"{sid} still in sentinel_outbox after {timeout} s"
        time.sleep(0.1)


def test_outbox_row_written_with_the_submission_and_deleted_on_confirm(api, stack):
    """The insert writes the outbox row; RabbitMQ's confirm deletes it. The job stays QUEUED (no
    worker), and the relay never deletes the row of a QUEUED job, so only the confirm can have."""
    stack.worker.signal(signal.SIGKILL)
    stack.worker.proc.wait(10)
    try:
        sid = api.post({"language": "python", "source_code": "print('confirmed')\n"}).json()["id"]
        wait_out_of_outbox(stack, sid, 15)
        assert api.get(f"/api/v1/submissions/{sid}").json()["status"] == "QUEUED"
    finally:
        stack.start_worker()
    d = api.wait_final(sid, 60)
    assert d["status"] == "ACCEPTED" and d["stdout"] == "confirmed\n", d
    assert_ran_once(stack, [sid])


def test_accepted_while_rabbitmq_is_down_runs_from_the_outbox(api, stack):
    """With the broker down, the row waits in the outbox past the relay's age; when the broker is
    back, the relay publishes it, the job runs once, and the confirm empties the outbox."""
    stack.services("stop", "rabbitmq")
    try:
        deadline = time.monotonic() + 40
        while api.get("/ready").status_code != 503:
            assert time.monotonic() < deadline, "/ready did not notice RabbitMQ going away"
            time.sleep(0.2)
        r = api.post({"language": "python", "source_code": "print('relayed')\n"})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        assert in_outbox(stack, sid)
        time.sleep(3)  # past SENTINEL_RELAY_AGE_MS (2 s): still there, nothing could publish it
        assert in_outbox(stack, sid)
        assert api.get(f"/api/v1/submissions/{sid}").json()["status"] == "QUEUED"
    finally:
        stack.services("start", "rabbitmq")
    wait_http(stack.url + "/ready", 60)
    d = api.wait_final(sid, 90)
    assert d["status"] == "ACCEPTED" and d["stdout"] == "relayed\n", d
    wait_out_of_outbox(stack, sid, 15)
    assert_ran_once(stack, [sid])


def test_relay_drops_outbox_rows_of_delivered_jobs(api, stack):
    """An outbox row whose confirm was lost (put back by hand) while its job is final already:
    the relay deletes it and the job is not run again."""
    r = api.post({"language": "python", "source_code": "print('once')\n"}, params={"wait": "true"})
    assert r.status_code == 200 and r.json()["status"] == "ACCEPTED", r.text
    sid = r.json()["id"]
    wait_out_of_outbox(stack, sid, 15)
    psql(stack, f"INSERT INTO sentinel_outbox (id, created_at) SELECT id, created_at FROM submissions"
                f" WHERE id = '{sid}'")
    assert in_outbox(stack, sid)
    wait_out_of_outbox(stack, sid, 15)
    assert api.get(f"/api/v1/submissions/{sid}").json()["stdout"] == "once\n"
    assert_ran_once(stack, [sid])


def uuid7(ms):
    """A UUIDv7 naming the instant ms, as sentinel-api makes a submission's id."""
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | b[6] & 0x0f
    b[8] = 0x80 | b[8] & 0x3f
    return str(uuid.UUID(bytes=bytes(b)))


def test_recovery_recipe_republishes_queued_rows_without_a_message(api, stack):
    """docs/OPERATIONS.md after losing RabbitMQ's data: a QUEUED row whose message is gone runs
    once the recipe has put it back in the outbox."""
    r = api.post({"language": "python", "source_code": "print('model')\n"}, params={"wait": "true"})
    assert r.status_code == 200, r.text
    model = r.json()["id"]
    ms = int(time.time() * 1000) - 60_000  # a minute old, as such rows would be
    sid = uuid7(ms)
    # The row alone: committed, QUEUED, never published, not in the outbox.
    psql(stack, f"INSERT INTO submissions (id, created_at, client, language, source_code, limits)"
                f" SELECT '{sid}', timestamptz 'epoch' + {ms} * interval '1 millisecond', client, language,"
                f" 'print(6 * 7)', limits FROM submissions WHERE id = '{model}'")
    time.sleep(3)
    assert api.get(f"/api/v1/submissions/{sid}").json()["status"] == "QUEUED"
    psql(stack, "INSERT INTO sentinel_outbox (id, created_at) SELECT id, created_at FROM submissions"
                " WHERE status = 'QUEUED' ON CONFLICT DO NOTHING;")
    d = api.wait_final(sid, 60)
    assert d["status"] == "ACCEPTED" and d["stdout"] == "42\n", d
    wait_out_of_outbox(stack, sid, 15)
    assert_ran_once(stack, [sid])


def post_waiting(api, code):
    """POSTs a Python program with ?wait=true on a thread of its own; returns the future of its
    response."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    future = pool.submit(api.post, {"language": "python", "source_code": code}, params={"wait": "true"},
                         timeout=60)
    pool.shutdown(wait=False)
    return future


def test_redis_restart_mid_stream_result_still_arrives(api, stack):
    """Redis goes away while a WebSocket client and a ?wait=true request follow a job: the WebSocket
    client gets the result (after reconnecting if the server closed it), the waiting request gets
    its answer, and the row is right."""
    code = "import time\nfor i in range(15):\n    print(i, flush=True)\n    time.sleep(0.2)\n"
    sid = api.post({"language": "python", "source_code": code}).json()["id"]
    waiting = post_waiting(api, code)
    ws = websocket.create_connection(f"{stack.ws_url}/ws/submissions/{sid}", timeout=30)
    first = json.loads(ws.recv())
    assert first["type"] in ("status", "stdout"), first
    stack.services("stop", "redis")
    time.sleep(0.5)
    stack.services("start", "redis")
    result = None
    for attempt in range(20):
        try:
            while True:
                m = json.loads(ws.recv())
                if m["type"] == "result":
                    result = m["result"]
                    break
        except (websocket.WebSocketException, ConnectionError, ValueError):
            pass
        if result:
            break
        ws.close()
        time.sleep(0.25)
        ws = websocket.create_connection(f"{stack.ws_url}/ws/submissions/{sid}", timeout=30)
    ws.close()
    expected = "".join(f"{i}\n" for i in range(15))
    assert result and result["status"] == "ACCEPTED" and result["stdout"] == expected, result
    r = waiting.result(60)
    d = r.json() if r.status_code == 200 else api.wait_final(r.json()["id"], 60)
    assert d["status"] == "ACCEPTED" and d["stdout"] == expected, d
    assert api.get(f"/api/v1/submissions/{sid}").json()["stdout"] == expected


def test_redis_down_when_the_job_finishes_result_still_arrives(api, stack):
    """The job ends while Redis is down: the worker keeps the final event and sends it when Redis
    is back, so the watcher that stayed connected and the waiting request both get the result."""
    code = "import time\ntime.sleep(1.5)\nprint('end')\n"
    sid = api.post({"language": "python", "source_code": code}).json()["id"]
    waiting = post_waiting(api, code)
    ws = websocket.create_connection(f"{stack.ws_url}/ws/submissions/{sid}", timeout=30)
    deadline = time.monotonic() + 30
    while api.get(f"/api/v1/submissions/{sid}").json()["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stack.services("stop", "redis")
    try:
        deadline = time.monotonic() + 30
        while api.get(f"/api/v1/submissions/{sid}").json()["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stack.services("start", "redis")
    result = None
    while result is None:
        m = json.loads(ws.recv())
        if m["type"] == "result":
            result = m["result"]
    ws.close()
    assert result["status"] == "ACCEPTED" and result["stdout"] == "end\n", result
    r = waiting.result(60)
    assert r.status_code == 200 and r.json()["stdout"] == "end\n", r.text


def test_waiting_clients_that_leave_free_their_connections(api, stack):
    """A client that leaves while its ?wait=true is held frees its descriptor within a second or
    two, not when the job ends (libmicrohttpd does not watch suspended connections: we do)."""
    import os
    import socket

    stack.worker.signal(signal.SIGKILL)  # the jobs stay QUEUED: the waits stay held
    stack.worker.proc.wait(10)
    fds = lambda: len(os.listdir(f"/proc/{stack.api.proc.pid}/fd"))  # noqa: E731
    try:
        base = fds()
        body = json.dumps({"language": "python", "source_code": "print('left')\n"})
        request = (f"POST /api/v1/submissions?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()
        socks = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", stack.ports["api"]), timeout=10)
            s.sendall(request)
            socks.append(s)
        deadline = time.monotonic() + 10
        while fds() < base + 20:
            assert time.monotonic() < deadline, (base, fds())
            time.sleep(0.05)
        time.sleep(0.5)
        held = fds()  # the 20 clients, and any pooled database connection the inserts opened
        for s in socks:
            s.close()
        deadline = time.monotonic() + 5  # the wait cap here is 20 s
        while fds() > held - 18:
            assert time.monotonic() < deadline, f"{fds() - held + 20} of 20 descriptors still held 5 s after the clients left"
            time.sleep(0.1)
    finally:
        stack.start_worker()
    # The jobs themselves go on.
    r = api.post({"language": "python", "source_code": "print('after')\n"}, params={"wait": "true"})
    assert r.status_code == 200 and r.json()["stdout"] == "after\n", r.text
