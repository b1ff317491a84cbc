# SPDX-License-Identifier: Apache-2.0
"""Hostile requests: each gets its 4xx with a JSON error body, the server stays up, and a normal
submission still works afterwards."""
import json
import socket
import time

import pytest
import requests

OK = {"language": "python", "source_code": "print(1)"}


def raw(stack, data, timeout=10):
    """Sends raw bytes on a fresh connection; returns (status, headers+body text)."""
    with socket.create_connection(("127.0.0.1", stack.ports["api"]), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except socket.timeout:
            pass
    text = b"".join(chunks).decode("latin-1")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else 0
    return status, text


def post_raw(stack, body, content_type="application/json", extra=b""):
    if isinstance(body, str):
        body = body.encode()
    head = (f"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n").encode()
    return raw(stack, head + extra + b"\r\n" + body)


def deep(n):
    return '{"language":"python","source_code":"x","limits":' + "[" * n + "]" * n + "}"


CASES = [
    # (name, body, expected status, expected field or None)
    ("not json", "hello", 400, None),
    ("truncated", '{"language": "python"', 400, None),
    ("empty body", "", 400, None),
    ("array body", "[]", 400, None),
    ("string body", '"x"', 400, None),
    ("number body", "1", 400, None),
    ("null body", "null", 400, None),
    ("deep nesting", deep(10000), 400, None),
    ("duplicate keys", '{"language":"python","language":"c","source_code":"x"}', 400, None),
    ("invalid utf-8", b'{"language":"python","source_code":"\xff\xfe"}', 400, None),
    ("overlong utf-8", b'{"language":"python","source_code":"\xc0\xaf"}', 400, None),
    ("lone surrogate escape", '{"language":"python","source_code":"\\ud800"}', 400, None),
    ("nul in source", '{"language":"python","source_code":"a\\u0000b"}', 422, "source_code"),
    ("nul in args", '{"language":"python","source_code":"x","args":["a\\u0000"]}', 422, "args"),
    ("missing language", '{"source_code":"x"}', 422, "language"),
    ("missing source", '{"language":"python"}', 422, "source_code"),
    ("empty source", '{"language":"python","source_code":""}', 422, "source_code"),
    ("unknown language", '{"language":"cobol","source_code":"x"}', 422, "language"),
    ("language not string", '{"language":1,"source_code":"x"}', 422, "language"),
    ("source not string", '{"language":"python","source_code":["x"]}', 422, "source_code"),
    ("stdin not string", '{"language":"python","source_code":"x","stdin":5}', 422, "stdin"),
    ("args not array", '{"language":"python","source_code":"x","args":"a"}', 422, "args"),
    ("args element number", '{"language":"python","source_code":"x","args":[1]}', 422, "args"),
    ("too many args", json.dumps({"language": "python", "source_code": "x", "args": ["a"] * 65}), 422, "args"),
    ("unknown field", '{"language":"python","source_code":"x","priority":9}', 422, "priority"),
    ("limits not object", '{"language":"python","source_code":"x","limits":3}', 422, "limits"),
    ("unknown limit", '{"language":"python","source_code":"x","limits":{"disk":1}}', 422, "limits.disk"),
    ("negative cpu", '{"language":"python","source_code":"x","limits":{"cpu_time":-1}}', 422, "limits.cpu_time"),
    ("zero wall", '{"language":"python","source_code":"x","limits":{"wall_time":0}}', 422, "limits.wall_time"),
    ("huge memory", '{"language":"python","source_code":"x","limits":{"memory":99999999999}}', 422, "limits.memory"),
    ("float memory", '{"language":"python","source_code":"x","limits":{"memory":1.5}}', 422, "limits.memory"),
    ("bool pids", '{"language":"python","source_code":"x","limits":{"pids":true}}', 422, "limits.pids"),
    ("string output", '{"language":"python","source_code":"x","limits":{"output":"1"}}', 422, "limits.output"),
    ("cpu over max", '{"language":"python","source_code":"x","limits":{"cpu_time":100000}}', 422, "limits.cpu_time"),
    ("1e309", '{"language":"python","source_code":"x","limits":{"cpu_time":1e309}}', 400, None),
    ("expected not string", '{"language":"python","source_code":"x","expected_output":{}}', 422, "expected_output"),
    ("source too large", json.dumps({"language": "python", "source_code": "#" * (1024 * 1024 + 1)}), 422, "source_code"),
]


@pytest.mark.parametrize("name,body,status,field", CASES, ids=[c[0] for c in CASES])
def test_bad_bodies(stack, name, body, status, field):
    got, text = post_raw(stack, body)
    assert got == status, text[:600]
    err = json.loads(text.split("\r\n\r\n", 1)[1])["error"]
    assert err["code"] and err["message"]
    if field:  # "args" also matches the element it names, "args[0]"
        assert err.get("field") == field or err.get("field", "").startswith(field + "["), err


def test_wrong_content_type(stack):
    got, text = post_raw(stack, json.dumps(OK), content_type="text/plain")
    assert got == 415 and '"unsupported_media_type"' in text


def test_body_over_cap_refused_before_reading(stack):
    # Claims 1 GiB and sends nothing: answered 413 at once, not after a timeout.
    t0 = time.monotonic()
    head = (b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\n\r\n")
    got, text = raw(stack, head, timeout=5)
    assert got == 413 and '"body_too_large"' in text
    assert time.monotonic() - t0 < 4


def test_unknown_route_and_method(api):
    r = api.get("/api/v2/nothing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = requests.delete(api.url + "/api/v1/submissions", timeout=10)
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_header_flood(stack):
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    got, text = raw(stack, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n")
    assert got == 431, text[:300]


def test_slow_client_is_cut_off(stack):
    # Sends half a request line and stalls: the server must drop it (timeout), not wait forever.
    with socket.create_connection(("127.0.0.1", stack.ports["api"]), timeout=60) as s:
        s.sendall(b"GET /hea")
        t0 = time.monotonic()
        s.settimeout(60)
        try:
            while s.recv(4096):
                pass  # whatever the server says before closing
        except ConnectionResetError:
            pass
        assert time.monotonic() - t0 < 15  # SENTINEL_CONNECTION_TIMEOUT_S=5 in this stack


def test_server_still_works(api):
    r = api.post(OK, params={"wait": "true"})
    assert r.status_code == 200 and r.json()["status"] == "ACCEPTED", r.text
