# SPDX-License-Identifier: Apache-2.0
"""Opt-in (SENTINEL_DEPLOY_VM=1: boots a qemu VM, ~2 minutes of one core): on cgroup v2,
sentinel-worker started in a service's or container's cgroup takes it (as it is, and through
deploy/scripts/sentinel-worker-start);
in a container's setting the worker's sandbox runs with exactly the ten capabilities the images
grant, and fails without any one of them."""
import os
import re

import pytest

from conftest import ROOT, run


@pytest.mark.skipif(os.environ.get("SENTINEL_DEPLOY_VM") != "1", reason="set SENTINEL_DEPLOY_VM=1 (boots a VM)")
def test_worker_start_on_cgroup_v2():
    build = os.environ.get("SENTINEL_BUILD") or str(ROOT / "build")
    r = run(["nice", "-n", "19", str(ROOT / "tests" / "vm" / "run-in-vm"), "--smp", "1", "--timeout", "600",
             "--cwd", str(ROOT), "--", "tests/deploy/vm-worker-cgroup", build])
    out = r.stdout + r.stderr
    results = dict(re.findall(r"RESULT ([\w-]+) (.*)", out))
    # Without the script the binary takes the delegated cgroup itself (its processes move into
    # <cgroup>/supervisor, the slots go below <cgroup>).
    assert results.get("plain") == "executor-started slots=2", out
    assert results.get("wrapped") == "executor-started slots=2", out
    assert results.get("container") == "executor-started slots=2", out
    assert results.get("container-run") == "accepted", out
    # Exactly the ten capabilities of the images: enough, and each one needed.
    assert results.get("without-none") == "accepted", out
    for cap in ("sys_admin", "net_admin", "setuid", "setgid", "setpcap", "chown", "fowner", "dac_override", "mknod"):
        assert results.get(f"without-{cap}", "").startswith("refused"), (cap, out)
    fast = re.match(r"(\d+)s .*TIME_LIMIT_EXCEEDED", results.get("slow-without-none", ""))
    slow = re.match(r"(\d+)s .*TIME_LIMIT_EXCEEDED", results.get("slow-without-kill", ""))
    assert fast and slow and int(fast.group(1)) < 10 <= int(slow.group(1)), out
