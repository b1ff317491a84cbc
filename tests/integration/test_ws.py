# SPDX-License-Identifier: Apache-2.0
"""The WebSocket endpoint: order, several watchers, late subscribers, refusals."""
import concurrent.futures
import json

import pytest
import requests
import websocket

PROGRAM = ("import sys, time\n"
           "for i in range(20):\n"
           "    print('out', i, flush=True)\n"
           "    print('err', i, file=sys.stderr, flush=True)\n"
           "    time.sleep(0.01)\n")


def watch(stack, sid, **kw):
    ws = websocket.create_connection(f"{stack.ws_url}/ws/submissions/{sid}", timeout=60, **kw)
    msgs = []
    try:
        while True:
            m = ws.recv()
            if not m:
                break
            msgs.append(json.loads(m))
    except websocket.WebSocketConnectionClosedException:
        pass
    finally:
        ws.close()
    return msgs


def check_stream(msgs):
    types = [m["type"] for m in msgs]
    assert types[-1] == "result", types
    assert types.count("result") == 1
    out = "".join(m["data"] for m in msgs if m["type"] == "stdout")
    err = "".join(m["data"] for m in msgs if m["type"] == "stderr")
    assert out == "".join(f"out {i}\n" for i in range(20)), out
    assert err == "".join(f"err {i}\n" for i in range(20)), err
    result = msgs[-1]["result"]
    assert result["status"] == "ACCEPTED" and result["stdout"] == out
    return result


def test_events_in_order_then_close(api, stack):
    sid = api.post({"language": "python", "source_code": PROGRAM}).json()["id"]
    msgs = watch(stack, sid)
    assert msgs[0]["type"] == "status"
    check_stream(msgs)
    # The result seen on the socket is committed: GET agrees.
    assert api.get(f"/api/v1/submissions/{sid}").json()["status"] == "ACCEPTED"


def test_several_watchers_see_the_same(api, stack):
    sid = api.post({"language": "python", "source_code": PROGRAM}).json()["id"]
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        streams = list(ex.map(lambda _: watch(stack, sid), range(4)))
    results = [check_stream(s) for s in streams]
    assert len({r["id"] for r in results}) == 1


def test_late_subscriber_gets_output_and_result(api, stack):
    sid = api.post({"language": "python", "source_code": PROGRAM}, params={"wait": "true"}).json()["id"]
    check_stream(watch(stack, sid))


def test_late_subscriber_after_the_stream_expired(api, stack):
    import subprocess
    sid = api.post({"language": "bash", "source_code": "echo gone"}, params={"wait": "true"}).json()["id"]
    # The stream expires after SENTINEL_EVENTS_TTL_S; delete it now to see the fallback.
    subprocess.run(["redis-cli", "-p", str(stack.ports["redis"]), "DEL", f"sentinel:events:{sid}"],
                   check=True, capture_output=True)
    msgs = watch(stack, sid)
    assert [m["type"] for m in msgs] == ["result"], msgs
    assert msgs[0]["result"]["stdout"] == "gone\n"


def test_unknown_submission_and_bad_paths(api, stack):
    import uuid
    msgs = watch(stack, uuid.uuid4())
    assert msgs and msgs[-1]["type"] == "error" and msgs[-1]["error"]["code"] == "not_found", msgs
    for path in ("/ws/submissions/not-a-uuid", "/ws/other", "/"):
        with pytest.raises(Exception):
            websocket.create_connection(f"{stack.ws_url}{path}", timeout=5).recv()


def test_origin_check(api, stack):
    sid = api.post({"language": "bash", "source_code": "echo hi"}, params={"wait": "true"}).json()["id"]
    host = f"127.0.0.1:{stack.ports['ws']}"
    assert watch(stack, sid, origin=f"http://{host}")[-1]["type"] == "result"
    with pytest.raises(Exception):
        websocket.create_connection(f"{stack.ws_url}/ws/submissions/{sid}", timeout=5,
                                    origin="http://evil.example").recv()


def test_ws_port_health(stack):
    r = requests.get(f"http://127.0.0.1:{stack.ports['ws']}/health", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_events_reach_watchers_through_the_notification_stream(api, stack):
    """The hub blocks on one stream of notifications (the job ids the worker adds after each event)
    instead of on every watched stream: an event with its notification arrives at once; one whose
    notification is missing (trimmed, or an older worker) still arrives by the periodic sweep."""
    import signal
    import subprocess
    import time

    def redis(*args):
        subprocess.run(["redis-cli", "-p", str(stack.ports["redis"]), *args], check=True, capture_output=True)

    stack.worker.signal(signal.SIGKILL)
    stack.worker.proc.wait(10)
    try:
        sid = api.post({"language": "bash", "source_code": "echo real"}).json()["id"]
        ws = websocket.create_connection(f"{stack.ws_url}/ws/submissions/{sid}", timeout=30)
        try:
            assert json.loads(ws.recv())["status"] == "QUEUED"

            def event(text, notify):
                redis("XADD", f"sentinel:events:{sid}", "*", "event", json.dumps({"type": "stdout", "data": text}))
                if notify:
                    redis("XADD", "sentinel:notify", "*", "id", sid)
                t0 = time.monotonic()
                m = json.loads(ws.recv())
                assert m == {"type": "stdout", "data": text}, m
                return time.monotonic() - t0

            # Three in a row well inside the 5 s sweep: not the sweep by chance.
            delays = [event(f"notified {i}\n", True) for i in range(3)]
            assert max(delays) < 0.5, delays
            assert event("swept\n", False) < 7, "an event without its notification waits for the sweep"
        finally:
            ws.close()
    finally:
        stack.start_worker()
    assert api.wait_final(sid)["stdout"] == "real\n"
