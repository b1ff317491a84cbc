# SPDX-License-Identifier: Apache-2.0
"""`meson install` alone gives a working installation: the binaries, and the data they read at run
time (the language registry, the seccomp profiles, the migrations) where their compiled-in defaults
look. Built from a copy of the tree that is deleted before the installed binaries run, so that
their fallback to the source tree cannot hide a file the install left out."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)


def tree_files(top, pattern):
    return sorted(str(p.relative_to(top)) for p in top.rglob(pattern) if p.is_file())


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not shutil.which("meson"):
        pytest.skip("no meson")
    tmp = tmp_path_factory.mktemp("install")
    src, build, prefix = tmp / "src", tmp / "build", tmp / "prefix"
    for rel in run(["git", "ls-files"], cwd=ROOT).stdout.splitlines():
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    r = run(["meson", "setup", build, src, f"--prefix={prefix}", "--buildtype=release", "-Dwerror=false"])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # The installed targets only (the tests are not installed).
    r = run(["meson", "compile", "-C", build, "api/sentinel-api:executable",
             "worker/sentinel-worker:executable", "worker/sentinel-run:executable"])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r = run(["meson", "install", "-C", build, "--no-rebuild", "--quiet"])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    shutil.rmtree(src)
    shutil.rmtree(build)
    return prefix


def test_binaries_installed(installed):
    for b in ("sentinel-api", "sentinel-worker", "sentinel-run"):
        assert os.access(installed / "bin" / b, os.X_OK), b


def test_policies_and_migrations_installed(installed):
    share = installed / "share" / "sentinel"
    policies = ROOT / "sandbox-policies"
    assert tree_files(share, "*.json") == tree_files(policies, "*.json")
    for rel in tree_files(policies, "*.json"):
        assert (share / rel).read_bytes() == (policies / rel).read_bytes(), rel
    assert tree_files(share / "migrations", "*") == tree_files(ROOT / "migrations", "*.sql")


def test_installed_sentinel_run_finds_its_policies(installed, tmp_path):
    """The source tree is gone: the registry and profiles can only come from the install."""
    env = {k: v for k, v in os.environ.items() if k != "SENTINEL_POLICY_DIR"}
    r = run([installed / "bin" / "sentinel-run", "--list-languages"], env=env)
    assert r.returncode == 0, r.stderr
    assert "python" in r.stdout
    if os.geteuid() != 0:
        pytest.skip("running a sandbox needs root")
    hello = tmp_path / "hello.py"
    hello.write_text('print("hello from the install")\n')
    r = run([installed / "bin" / "sentinel-run", "--lang", "python", hello], env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello from the install\n"
    assert "ACCEPTED" in r.stderr
