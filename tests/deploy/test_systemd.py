# SPDX-License-Identifier: Apache-2.0
"""deploy/systemd: `systemd-analyze verify` on the units (ExecStart pointed at the build
directory's binaries in a temporary copy), their hardening, and the example environment file."""
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, WORKER_CAPS, check_env_values, config_table, run

SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = ("sentinel-api.service", "sentinel-worker.service")


def build_dir():
    for d in (os.environ.get("SENTINEL_BUILD"), ROOT / "build", ROOT / "build-deploy"):
        if d and (Path(d) / "api" / "sentinel-api").exists() and (Path(d) / "worker" / "sentinel-worker").exists():
            return Path(d)
    return None


def localize(text, tmp_path):
    """The unit with its installed paths replaced by this checkout's (binaries, script, env)."""
    b = build_dir()
    if b:
        api, worker = b / "api" / "sentinel-api", b / "worker" / "sentinel-worker"
    else:   # no build: stand-ins, so that verify still checks everything else
        api, worker = tmp_path / "sentinel-api", tmp_path / "sentinel-worker"
        for f in (api, worker):
            f.write_text("#!/bin/sh\n")
            f.chmod(0o755)
    return (text.replace("/usr/libexec/sentinel/sentinel-worker-start", str(ROOT / "deploy" / "scripts" / "sentinel-worker-start"))
            .replace("/usr/bin/sentinel-api", str(api)).replace("/usr/bin/sentinel-worker", str(worker))
            .replace("/etc/sentinel/sentinel.env", str(SYSTEMD / "sentinel.env.example")))


def verify(tmp_path, texts):
    paths = []
    for name, text in texts.items():
        p = tmp_path / name
        p.write_text(text)
        paths.append(str(p))
    return run(["systemd-analyze", "verify", "--man=no", *paths], cwd=tmp_path,
               env={"PATH": os.environ["PATH"], "SYSTEMD_LOG_LEVEL": "info"})


def needs_systemd_analyze():
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze not found (Debian package systemd)")


def test_units_verify(tmp_path):
    needs_systemd_analyze()
    r = verify(tmp_path, {u: localize((SYSTEMD / u).read_text(), tmp_path) for u in UNITS})
    # Unknown keys and bad values are only warnings for systemd: any output is a failure here.
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


@pytest.mark.parametrize("unit,old,new", [
    ("sentinel-api.service", "ProtectSystem=strict", "ProtectSytem=strict"),
    ("sentinel-api.service", "RestartSec=2s", "RestartSec=two"),
    ("sentinel-worker.service", "ExecStart=/usr/libexec/sentinel/sentinel-worker-start", "ExecStart=/nonexistent/start"),
    ("sentinel-worker.service", "RuntimeDirectory=sentinel lock/sentinel", "RuntimeDirectory=../sentinel"),
])
def test_verify_can_fail(tmp_path, unit, old, new):
    needs_systemd_analyze()
    text = (SYSTEMD / unit).read_text()
    assert old in text
    r = verify(tmp_path, {unit: localize(text.replace(old, new), tmp_path)})
    assert r.returncode != 0 or (r.stdout + r.stderr).strip()


def settings(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def check_units(api_text, worker_text):
    problems = []
    api, wrk = settings(api_text), settings(worker_text)
    for name, s in (("api", api), ("worker", wrk)):
        for k, v in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                     ("ProtectHome", "yes"), ("ProtectKernelModules", "yes"), ("RestrictRealtime", "yes"),
                     ("RestrictSUIDSGID", "yes"), ("LockPersonality", "yes"), ("SystemCallArchitectures", "native")):
            if s.get(k, [None])[-1] != v:
                problems.append(f"{name}: {k}={v} missing")
        if not s.get("EnvironmentFile"):
            problems.append(f"{name}: no EnvironmentFile")
        if not any(x in ("on-failure", "always") for x in s.get("Restart", [])):
            problems.append(f"{name}: no Restart=")
        grace = int(config_table()["SENTINEL_SHUTDOWN_GRACE_MS"]) / 1000
        stop = re.match(r"(\d+)", s.get("TimeoutStopSec", ["0"])[-1])
        if not stop or int(stop.group(1)) <= grace:
            problems.append(f"{name}: TimeoutStopSec must exceed SENTINEL_SHUTDOWN_GRACE_MS")
    if api.get("DynamicUser", ["no"])[-1] != "yes" and api.get("User", ["root"])[-1] in ("root", "0"):
        problems.append("api: must not run as root")
    if api.get("CapabilityBoundingSet", [None])[-1] != "":
        problems.append("api: needs no capability (CapabilityBoundingSet= empty)")
    for k in ("PrivateDevices", "MemoryDenyWriteExecute", "RestrictNamespaces", "ProtectControlGroups"):
        if k not in api:
            problems.append(f"api: {k} missing")
    if wrk.get("Delegate", ["no"])[-1] != "yes":
        problems.append("worker: Delegate=yes missing (it creates cgroups below its own)")
    if wrk.get("KillMode", [""])[-1] != "mixed":
        problems.append("worker: KillMode=mixed (SIGTERM to the worker, not to the sandboxed programs)")
    caps = set(wrk.get("CapabilityBoundingSet", [""])[-1].replace("CAP_", "").split())
    if caps != WORKER_CAPS:
        problems.append(f"worker: CapabilityBoundingSet must be exactly {sorted(WORKER_CAPS)}, not {sorted(caps)}")
    # Inherited by every sandbox, or in the way of the launcher (the unit's comment says why).
    for k in ("MemoryDenyWriteExecute", "SystemCallFilter", "PrivateDevices", "ProtectControlGroups",
              "ProtectKernelTunables", "ProcSubset", "PrivateUsers"):
        if k in wrk:
            problems.append(f"worker: {k} breaks the sandboxes")
    ns = set(wrk.get("RestrictNamespaces", [""])[-1].split())
    if ns != {"mnt", "pid", "ipc", "uts", "net", "cgroup"}:
        problems.append("worker: RestrictNamespaces must allow exactly mnt pid ipc uts net cgroup (no user)")
    if "sentinel-worker-start" not in wrk.get("ExecStart", [""])[-1]:
        problems.append("worker: ExecStart must go through sentinel-worker-start (cgroup v2 subtree)")
    return problems


def test_unit_hardening():
    assert check_units((SYSTEMD / UNITS[0]).read_text(), (SYSTEMD / UNITS[1]).read_text()) == []


@pytest.mark.parametrize("which,old,new", [
    (0, "NoNewPrivileges=yes", "NoNewPrivileges=no"),
    (0, "CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"),
    (1, "Delegate=yes", "Delegate=no"),
    (1, "KillMode=mixed", "KillMode=control-group"),
    (1, "LockPersonality=yes", "LockPersonality=yes\nMemoryDenyWriteExecute=yes"),
    (1, "CAP_MKNOD", "CAP_MKNOD CAP_SYS_PTRACE"),
    (1, "TimeoutStopSec=45", "TimeoutStopSec=20"),
])
def test_hardening_check_can_fail(which, old, new):
    texts = [(SYSTEMD / u).read_text() for u in UNITS]
    assert old in texts[which]
    texts[which] = texts[which].replace(old, new)
    assert check_units(*texts)


def env_file(text):
    return dict(l.split("=", 1) for l in text.splitlines() if l.strip() and not l.startswith("#"))


def test_env_example_names_only_real_variables():
    env = env_file((SYSTEMD / "sentinel.env.example").read_text())
    assert all(k.startswith("SENTINEL_") for k in env)
    assert check_env_values(env, "sentinel.env.example") == []
    assert check_env_values(env_file("SENTINEL_SLOTS=-1\nSENTINEL_LISTEN_ADRESS=x\n"), "broken")
