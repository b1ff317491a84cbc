#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""POST → final result latency of a Python hello world, one client, against a running stack.

Usage: bench-api.py API_URL WS_URL [N]
(one client sending 2N jobs in a row: start the stack with SENTINEL_RATE_PER_S=0 and
SENTINEL_MAX_ACTIVE_PER_CLIENT=0, or the default rate limit answers 429)
Measures N submissions through ?wait=true and N through the WebSocket (POST, then connect to
/ws/submissions/{id} and read until the result), interleaved, and prints a Markdown table with
p50, p90 and p99 of each."""
import json
import statistics
import sys
import time

import requests
import websocket

BODY = {"language": "python", "source_code": 'print("hello, world")\n'}


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def via_wait(s, api):
    t0 = time.perf_counter()
    r = s.post(api + "/api/v1/submissions?wait=true", data=json.dumps(BODY), timeout=60)
    t1 = time.perf_counter()
    assert r.status_code == 200 and r.json()["status"] == "ACCEPTED", r.text
    return (t1 - t0) * 1000


def via_ws(s, api, ws_url):
    t0 = time.perf_counter()
    r = s.post(api + "/api/v1/submissions", data=json.dumps(BODY), timeout=60)
    sid = r.json()["id"]
    ws = websocket.create_connection(f"{ws_url}/ws/submissions/{sid}", timeout=60)
    try:
        while True:
            m = json.loads(ws.recv())
            if m["type"] == "result":
                break
    finally:
        ws.close()
    t1 = time.perf_counter()
    assert m["result"]["status"] == "ACCEPTED", m
    return (t1 - t0) * 1000


def main():
    api, ws_url = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    s = requests.Session()
    s.headers["Content-Type"] = "application/json"
    for _ in range(5):  # warm-up
        via_wait(s, api)
    a, b = [], []
    for _ in range(n):
        a.append(via_wait(s, api))
        b.append(via_ws(s, api, ws_url))
    print(f"| path ({n} runs, one client) | p50 (ms) | p90 (ms) | p99 (ms) | target |")
    print("|---|---|---|---|---|")
    for name, xs in (("POST ?wait=true", a), ("POST, then WebSocket to the result", b)):
        p50, p99 = statistics.median(xs), pct(xs, 99)
        ok = "met" if p50 <= 25 and p99 <= 60 else "MISSED"
        print(f"| {name} | {p50:.1f} | {pct(xs, 90):.1f} | {p99:.1f} | p50 ≤ 25, p99 ≤ 60: {ok} |")


if __name__ == "__main__":
    main()
