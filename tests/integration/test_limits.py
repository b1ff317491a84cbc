# SPDX-License-Identifier: Apache-2.0
"""Abuse limits: the per-client rate limit (a token bucket in Redis), the cap on queued-plus-running
jobs per client, API keys (Authorization: Bearer, X-Auth-Token), and fairness between clients."""
import json
import re
import time

import pytest
import requests

from conftest import wait_http

JSON = {"Content-Type": "application/json"}
HELLO = {"language": "python", "source_code": "print('hi')\n"}


def post(url, body=HELLO, headers=None, path="/api/v1/submissions", timeout=60):
    return requests.post(url + path, data=json.dumps(body), headers={**JSON, **(headers or {})}, timeout=timeout)


def wait_final(url, sid, headers=None, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = requests.get(f"{url}/api/v1/submissions/{sid}", headers=headers or {}, timeout=10).json()
        if d.get("status") not in ("QUEUED", "RUNNING"):
            return d
        time.sleep(0.05)
    raise TimeoutError(sid)


@pytest.fixture
def extra_api(stack):
    started = []

    def start(**overrides):
        p, url = stack.start_extra_api(f"sentinel-api-limits-{len(started)}", **overrides)
        started.append(p)
        return url

    yield start
    for p in started:
        assert p.stop() == 0, p.log()


@pytest.fixture
def keys(stack, api):
    """Creates API keys by name with `sentinel-api keys create`; revokes them afterwards and waits
    until the suite's API is open again."""
    made = []  # (name, key)

    def create(name):
        out = stack.sentinel_api("keys", "create", name).stdout
        key = re.search(r"^key\s+(snk_\S+)$", out, re.M).group(1)
        made.append((name, key))
        return key

    def answers(url, code, key=None):
        headers = {"Authorization": f"Bearer {key}"} if key else None
        return requests.get(url + "/api/v1/languages", headers=headers, timeout=10).status_code == code

    def wait_open(expect, url=None):
        """Waits until the API at url (default: the suite's) has (re-)read the keys: it answers
        `expect` without a key and, with keys on (401), takes every key made so far (a refresh
        between two creations loads only the first; reads are not rate-limited)."""
        url = url or api.url
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if answers(url, expect) and (expect != 401 or all(answers(url, 200, k) for _, k in made)):
                return
            time.sleep(0.05)
        raise TimeoutError(f"/api/v1/languages never answered {expect} (or refused a key)")

    create.wait = wait_open
    yield create
    for name, _ in made:
        stack.sentinel_api("keys", "revoke", name, check=False)
    wait_open(200)


def test_rate_limit_429_with_retry_after(extra_api):
    url = extra_api(SENTINEL_RATE_PER_S=1, SENTINEL_RATE_BURST=3)
    codes = [post(url).status_code for _ in range(3)]
    assert codes == [202, 202, 202], codes
    r = post(url)
    assert r.status_code == 429, r.text
    e = r.json()["error"]
    assert e["code"] == "rate_limited" and "per second" in e["message"], e
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 2, r.headers
    # Bad requests spend tokens too: a flood of garbage is a flood.
    assert post(url, body={"language": 1}).status_code == 429
    time.sleep(wait + 0.1)
    assert post(url).status_code == 202


def test_rate_limit_is_per_client(extra_api, keys):
    url = extra_api(SENTINEL_RATE_PER_S=1, SENTINEL_RATE_BURST=2)
    a, b = keys("rate-a"), keys("rate-b")
    keys.wait(401, url)
    ha, hb = {"Authorization": f"Bearer {a}"}, {"X-Auth-Token": b}
    assert [post(url, headers=ha).status_code for _ in range(3)] == [202, 202, 429]
    assert post(url, headers=hb).status_code == 202  # b's bucket is its own


def test_active_cap_per_client(extra_api):
    url = extra_api(SENTINEL_RATE_PER_S=0, SENTINEL_MAX_ACTIVE_PER_CLIENT=2)
    slow = {"language": "python", "source_code": "import time\ntime.sleep(2)\n"}
    ids = [post(url, body=slow).json()["id"] for _ in range(2)]
    r = post(url)
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_active", r.text
    assert r.headers["Retry-After"] == "1"
    for i in ids:
        assert wait_final(url, i)["status"] == "ACCEPTED"
    assert post(url).status_code == 202


def test_api_keys(stack, api, keys):
    assert api.get("/api/v1/languages").status_code == 200  # no key active: open
    key = keys("alice")
    other = keys("bob")
    keys.wait(401)
    r = api.get("/api/v1/languages")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer"), r.headers
    assert r.json()["error"] == {"code": "unauthorized", "field": "Authorization",
                                 "message": r.json()["error"]["message"]}
    bad = api.get("/api/v1/languages", headers={"Authorization": "Bearer snk_" + "x" * 43})
    assert bad.status_code == 401 and "invalid_token" in bad.headers["WWW-Authenticate"]
    assert api.get("/api/v1/languages", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert api.get("/api/v1/languages", headers={"X-Auth-Token": key}).status_code == 200
    # Health, readiness and metrics stay open.
    wait_http(api.url + "/ready", 30)
    for path in ("/health", "/metrics"):
        assert api.get(path).status_code == 200, path
    # A submission with a key; the history shows each client its own.
    mine = api.post(HELLO, headers={"Authorization": f"Bearer {key}"})
    assert mine.status_code == 202, mine.text
    theirs = api.post(HELLO, headers={"Authorization": f"Bearer {other}"}).json()["id"]
    hist = api.get("/api/v1/submissions?limit=100", headers={"Authorization": f"Bearer {key}"}).json()
    ids = [s["id"] for s in hist["submissions"]]
    assert mine.json()["id"] in ids and theirs not in ids
    # Only the hash is stored; the listing shows the prefix only.
    listing = stack.sentinel_api("keys", "list").stdout
    assert "alice" in listing and key not in listing and key[:10] in listing
    # Revoked: refused within the refresh interval.
    out = stack.sentinel_api("keys", "revoke", "alice").stdout
    assert "revoked alice" in out
    deadline = time.monotonic() + 5
    while api.get("/api/v1/languages", headers={"Authorization": f"Bearer {key}"}).status_code != 401:
        assert time.monotonic() < deadline, "a revoked key still works"
        time.sleep(0.05)
    assert api.get("/api/v1/languages", headers={"X-Auth-Token": other}).status_code == 200


def test_keys_command_errors(stack, keys):
    keys("carol")
    dup = stack.sentinel_api("keys", "create", "carol", check=False)
    assert dup.returncode == 1 and "already" in dup.stderr, dup
    bad = stack.sentinel_api("keys", "create", "no spaces please", check=False)
    assert bad.returncode == 1 and "not a valid name" in bad.stderr, bad
    gone = stack.sentinel_api("keys", "revoke", "nobody", check=False)
    assert gone.returncode == 1 and "no active key" in gone.stderr, gone
    usage = stack.sentinel_api("keys", "frobnicate", check=False)
    assert usage.returncode == 2 and "Usage" in usage.stderr


def test_one_clients_burst_does_not_starve_another(extra_api, keys):
    """Client A floods; its cap bounds how much of the queue is its own, so client B's single job
    waits at most for the cap's worth of A's jobs."""
    cap, job_s = 4, 0.5
    url = extra_api(SENTINEL_RATE_PER_S=0, SENTINEL_MAX_ACTIVE_PER_CLIENT=cap)
    a, b = keys("fair-a"), keys("fair-b")
    keys.wait(401, url)
    ha, hb = {"Authorization": f"Bearer {a}"}, {"Authorization": f"Bearer {b}"}
    slow = {"language": "python", "source_code": f"import time\ntime.sleep({job_s})\n"}
    codes = [post(url, body=slow, headers=ha).status_code for _ in range(40)]
    assert codes.count(202) == cap and codes.count(429) == 40 - cap, codes
    t0 = time.monotonic()
    r = post(url, headers=hb, path="/api/v1/submissions?wait=true")
    took = time.monotonic() - t0
    assert r.status_code == 200 and r.json()["stdout"] == "hi\n", r.text
    # Two slots: at most cap/2 rounds of A's jobs ahead of B's (plus start-up costs).
    bound = cap / 2 * job_s + 1.5
    assert took < bound, f"B waited {took:.2f} s behind A's burst (bound {bound:.2f} s)"
    print(f"fairness: B's job answered in {took * 1000:.0f} ms behind A's burst of 40 (cap {cap})")


def test_trusted_proxy_names_the_client(extra_api):
    """Behind a trusted proxy the client is the address the proxy saw (the last X-Forwarded-For
    entry); from anyone else the header is ignored."""
    url = extra_api(SENTINEL_RATE_PER_S=1, SENTINEL_RATE_BURST=1, SENTINEL_TRUSTED_PROXIES="127.0.0.0/8")
    a = {"X-Forwarded-For": "198.51.100.7, 203.0.113.1"}
    b = {"X-Forwarded-For": "203.0.113.2"}
    assert post(url, headers=a).status_code == 202
    assert post(url, headers=a).status_code == 429
    assert post(url, headers=b).status_code == 202  # another client behind the same proxy
    # What the client wrote before the proxy's entry does not make it someone else.
    assert post(url, headers={"X-Forwarded-For": "9.9.9.9, 203.0.113.1"}).status_code == 429
    untrusted = extra_api(SENTINEL_RATE_PER_S=1, SENTINEL_RATE_BURST=1)
    assert post(untrusted, headers={"X-Forwarded-For": "192.0.2.50"}).status_code == 202
    assert post(untrusted, headers={"X-Forwarded-For": "192.0.2.51"}).status_code == 429  # the peer's bucket
