# SPDX-License-Identifier: Apache-2.0
# Sentinel sandbox suite: positive controls for the host facts, so a passing suite means the
# checks in conftest.py can fail: each one is shown a violation made on purpose.
import os
import signal
import socket
import time

from conftest import UID_FIRST, sandbox_processes


def test_listeners_count(host):
    host.listeners.self_check()


def test_leak_detection(host):
    host.record("stdout", "x" + host.canary_content + "y")
    host.record("stderr", "env " + host.env_token)
    found = host.leaks()
    host.outputs.clear()
    assert any("canary" in f for f in found) and any("environment" in f for f in found), found


def test_canary_change_detected(host):
    with open(host.canary, "a") as f:
        f.write("tampered\n")
    try:
        assert any("canary" in b for b in host.check())
    finally:
        with open(host.canary, "w") as f:
            f.write(host.canary_content)
    assert host.check() == []


def test_listener_hit_detected(host):
    with socket.create_connection(("127.0.0.1", host.listeners.port), timeout=5):
        pass
    deadline = time.monotonic() + 5
    bad = []
    while time.monotonic() < deadline and not bad:
        time.sleep(0.05)
        bad = [b for b in host.check() if "listeners" in b]
    assert bad


def test_orphan_sandbox_process_detected(host):
    pid = os.fork()
    if pid == 0:  # a stray "sandbox" process: our child, uid 60000
        try:
            os.setgid(UID_FIRST)
            os.setuid(UID_FIRST)
            time.sleep(30)
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(p[0] == pid for p in sandbox_processes()):
            time.sleep(0.05)
        assert any(p[0] == pid for p in sandbox_processes())
    finally:
        os.kill(pid, signal.SIGKILL)  # our own child, by its pid
        os.waitpid(pid, 0)
    assert not any(p[0] == pid for p in sandbox_processes())
