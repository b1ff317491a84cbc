# SPDX-License-Identifier: Apache-2.0
"""deploy/docker: a small structured check of the Dockerfiles (no hadolint, no Docker engine here):
bases pinned to bookworm, non-root API, HEALTHCHECK, exec-form entrypoints, COPY sources that
exist and are not excluded by .dockerignore, apt hygiene, packages that exist in Debian 12, the
worker's language runtimes, ENV names the binaries read, and the entrypoint script on a fake
cgroup tree."""
import fnmatch
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, check_env_values, config_table, run, setting

DOCKER = ROOT / "deploy" / "docker"


def instructions(path_or_text):
    """[(INSTRUCTION, argument)] with continuations joined and comments dropped."""
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        cur += " " + s[:-1] if s.endswith("\\") else " " + s
        if not s.endswith("\\"):
            ins, _, arg = cur.strip().partition(" ")
            out.append((ins.upper(), arg.strip()))
            cur = ""
    return out


def stages(ins):
    """[{name, base, ins}] per FROM."""
    out = []
    for i, a in ins:
        if i == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", a, re.I)
            out.append({"base": m.group(1), "name": m.group(2), "ins": []})
        elif out:
            out[-1]["ins"].append((i, a))
    return out


def dockerignore():
    pats = []
    for l in (ROOT / ".dockerignore").read_text().splitlines():
        l = l.strip()
        if l and not l.startswith("#"):
            pats.append(l.rstrip("/"))
    return pats


def ignored(rel, pats):
    parts = rel.split("/")
    for p in pats:
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if fnmatch.fnmatch(prefix, p) or (p.startswith("**/") and fnmatch.fnmatch(parts[i - 1], p[3:])):
                return True
    return False


def check_dockerfile(text, role):
    problems = []
    st = stages(instructions(text))
    if not st:
        return ["no FROM"]
    names = {s["name"] for s in st if s["name"]}
    for s in st:
        b = s["base"]
        if b not in names and not re.fullmatch(r"(debian:bookworm-slim|node:20-bookworm-slim)", b):
            problems.append(f"FROM {b}: not pinned to a bookworm base")
        for i, a in s["ins"]:
            if i == "RUN" and "apt-get install" in a:
                if "--no-install-recommends" not in a:
                    problems.append("apt-get install without --no-install-recommends")
                if "rm -rf /var/lib/apt/lists" not in a:
                    problems.append("apt lists left in the layer")
                if "apt-get update" not in a:
                    problems.append("apt-get install without apt-get update in the same RUN")
            if i in ("COPY", "ADD"):
                if i == "ADD":
                    problems.append("ADD: use COPY")
                args = [x for x in a.split() if not x.startswith("--")]
                if "--from=" in a:
                    src = re.search(r"--from=(\S+)", a).group(1)
                    if src not in names and not re.fullmatch(r"node:20-bookworm-slim", src):
                        problems.append(f"COPY --from={src}: unknown stage")
                    continue
                pats = dockerignore()
                for src in args[:-1]:
                    rel = src.rstrip("/")
                    if rel == ".":
                        continue
                    if not (ROOT / rel).exists():
                        problems.append(f"COPY {src}: not in the repository")
                    elif ignored(rel, pats):
                        problems.append(f"COPY {src}: excluded by .dockerignore")
    final = st[-1]
    if final["base"] != "debian:bookworm-slim":
        problems.append("the final stage must be debian:bookworm-slim")
    fi = dict()
    for i, a in final["ins"]:
        fi.setdefault(i, []).append(a)
    user = (fi.get("USER") or [""])[-1].split(":")[0]
    if role == "api" and user in ("", "0", "root"):
        problems.append("api: the final stage must run as a non-root USER")
    if role == "worker" and user not in ("0", "root"):
        problems.append("worker: runs as root (it changes to the sandbox uids)")
    if not fi.get("HEALTHCHECK") or "CMD" not in fi["HEALTHCHECK"][-1]:
        problems.append("no HEALTHCHECK")
    ep = (fi.get("ENTRYPOINT") or [""])[-1]
    try:
        ep_argv = json.loads(ep)
    except ValueError:
        ep_argv = None
    if not isinstance(ep_argv, list):
        problems.append("ENTRYPOINT must be exec form (SIGTERM reaches the binary)")
    env = {}
    for a in fi.get("ENV", []):
        for m in re.finditer(r"(\w+)=(\S+)", a):
            env[m.group(1)] = m.group(2)
    problems += check_env_values(env, "ENV")
    if setting(env, "SENTINEL_LISTEN_ADDRESS") != "0.0.0.0":
        problems.append("ENV SENTINEL_LISTEN_ADDRESS=0.0.0.0 missing (127.0.0.1 is unreachable from outside)")
    exposed = {int(p) for a in fi.get("EXPOSE", []) for p in a.split()}
    wanted = {"api": ("SENTINEL_API_PORT", "SENTINEL_WS_PORT"), "worker": ("SENTINEL_METRICS_PORT",)}[role]
    for v in wanted:
        if int(setting(env, v)) not in exposed:
            problems.append(f"EXPOSE misses {v}={setting(env, v)}")
    hc = fi.get("HEALTHCHECK", [""])[-1]
    if str(setting(env, wanted[0])) not in hc:
        problems.append(f"HEALTHCHECK does not probe {wanted[0]}")
    return problems


@pytest.mark.parametrize("role", ["api", "worker"])
def test_dockerfile(role):
    assert check_dockerfile((DOCKER / f"{role}.Dockerfile").read_text(), role) == []


@pytest.mark.parametrize("role,old,new", [
    ("api", "USER 10001:10001", "USER root"),
    ("api", "FROM debian:bookworm-slim\n", "FROM debian:latest\n"),
    ("api", "HEALTHCHECK", "# HEALTHCHECK"),
    ("api", 'ENTRYPOINT ["/usr/bin/sentinel-api"]', "ENTRYPOINT /usr/bin/sentinel-api"),
    ("api", "COPY migrations/", "COPY migration/"),
    ("api", "    SENTINEL_WEB_ROOT=", "    SENTINEL_WEBROOT="),
    ("api", "EXPOSE 8080 8081", "EXPOSE 8080"),
    ("worker", "    && rm -rf /var/lib/apt/lists/*\nCOPY --from=node", "\nCOPY --from=node"),
    ("worker", "COPY deploy/scripts/", "COPY .stack/"),
    ("worker", "USER 0:0", "USER 10001"),
])
def test_dockerfile_check_can_fail(role, old, new):
    text = (DOCKER / f"{role}.Dockerfile").read_text()
    assert old in text
    assert check_dockerfile(text.replace(old, new, 1), role)


def apt_packages(role):
    """The packages the final stage installs."""
    pkgs = set()
    for i, a in stages(instructions(DOCKER / f"{role}.Dockerfile"))[-1]["ins"]:
        if i == "RUN" and "apt-get install" in a:
            seg = a.split("apt-get install", 1)[1].split("&&")[0]
            pkgs |= {w for w in seg.split() if not w.startswith("-") and w != "\\"}
    return pkgs


def debian_has_lists():
    return bool(list(Path("/var/lib/apt/lists").glob("*bookworm*Packages*")))


@pytest.mark.skipif(not debian_has_lists(), reason="no Debian 12 package lists here (apt-get update)")
@pytest.mark.parametrize("role", ["api", "worker"])
def test_apt_packages_exist_in_bookworm(role):
    pkgs = set()
    for s in stages(instructions(DOCKER / f"{role}.Dockerfile")):
        for i, a in s["ins"]:
            if i == "RUN" and "apt-get install" in a:
                seg = a.split("apt-get install", 1)[1].split("&&")[0]
                pkgs |= {w for w in seg.split() if not w.startswith("-")}
    r = run(["apt-cache", "policy", *sorted(pkgs)])
    found = dict(re.findall(r"(?m)^(\S+):\n\s+Installed: .*\n\s+Candidate: (.*)$", r.stdout))
    missing = sorted(p for p in pkgs if found.get(p, "(none)") == "(none)")
    assert missing == []
    assert run(["apt-cache", "policy", "libjansson-does-not-exist"]).stdout.strip() == ""


def test_runtime_libraries_cover_the_binaries():
    """The final stages install the Debian packages of every shared library the binaries link."""
    build = Path(os.environ.get("SENTINEL_BUILD") or ROOT / "build")
    for role, binary in (("api", "api/sentinel-api"), ("worker", "worker/sentinel-worker")):
        b = build / binary
        if not b.exists():
            pytest.skip(f"no {b} (set SENTINEL_BUILD)")
        if not shutil.which("readelf"):
            pytest.skip("no readelf (binutils)")
        # Direct dependencies only: the packages pull in their own.
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", run(["readelf", "-d", str(b)]).stdout))
        assert needed, f"no NEEDED entries in {b}"
        r = run(["dpkg", "-S", *(f"*/{lib}" for lib in sorted(needed))])
        owners = {}
        for line in r.stdout.splitlines():
            pkg, path = line.split(": ", 1)
            owners.setdefault(Path(path).name, set()).update(p.split(":")[0].strip() for p in pkg.split(","))
        pkgs = apt_packages(role)
        for lib in needed:
            o = owners.get(lib, set())
            assert o, f"{lib}: no Debian package owns it here"
            if o & {"libc6", "libc6-amd64"}:
                continue
            assert o & pkgs, f"{role}: {lib} (from {o}) is not installed in the image"


def test_worker_image_has_every_language_runtime():
    """Each path the registry runs (argv[0] of compile and run, ro_mounts) comes from a package the
    worker image installs (or its dependencies), or from the node stage."""
    if not shutil.which("dpkg") or not debian_has_lists():
        pytest.skip("needs dpkg and Debian 12 package lists")
    langs = json.loads((ROOT / "sandbox-policies" / "languages.json").read_text())["languages"]
    pkgs = apt_packages("worker")
    copied = {a.split()[-1] for i, a in instructions(DOCKER / "worker.Dockerfile") if i == "COPY" and "--from=node" in a}
    r = run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
             "--no-breaks", "--no-replaces", "--no-enhances", *sorted(pkgs)])
    closure = set(pkgs) | {l.strip() for l in r.stdout.splitlines() if not l.startswith(" ")}
    closure |= {l.split(":", 1)[1].strip().strip("<>") for l in r.stdout.splitlines() if "Depends:" in l}
    closure = {p.split(":")[0] for p in closure}
    for lang in langs:
        paths = [lang["run"][0]] + ([lang["compile"][0]] if lang.get("compile") else []) + lang.get("ro_mounts", [])
        for p in paths:
            if p.startswith("/box/"):
                continue
            if p in copied:
                continue
            # merged /usr: dpkg may know /usr/bin/bash as /bin/bash.
            for cand in (p, os.path.realpath(p), re.sub(r"^/usr(?=/(bin|sbin|lib)/)", "", p)):
                owner = run(["dpkg", "-S", cand])
                if owner.returncode == 0:
                    break
            assert owner.returncode == 0, f"{lang['id']}: {p} belongs to no Debian package here"
            owners = {o.split(":")[0].strip() for o in owner.stdout.split("\n")[0].split(",")}
            assert owners & closure, f"{lang['id']}: {p} ({owners}) is not in the worker image"


def test_dockerignore_keeps_the_build_inputs():
    pats = dockerignore()
    for rel in ("meson.build", "common", "api", "worker", "tests/meson.build", "tests/unit", "tests/fuzz",
                "sandbox-policies", "migrations", "web/package.json", "deploy/scripts/sentinel-worker-start"):
        assert not ignored(rel, pats), rel
    for rel in (".git", "build", "build-deploy", ".stack", "web/node_modules", "web/dist"):
        assert ignored(rel, pats), rel


# ---- the worker's entrypoint on a fake cgroup tree -------------------------------------------

SCRIPT = ROOT / "deploy" / "scripts" / "sentinel-worker-start"


def fake_tree(tmp_path, own):
    cg = tmp_path / "cgroup"
    d = cg / own.strip("/") if own != "/" else cg
    d.mkdir(parents=True, exist_ok=True)
    (d / "cgroup.procs").write_text("101\n102\n")
    (d / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (d / "cgroup.subtree_control").write_text("")
    proc = tmp_path / "self-cgroup"
    proc.write_text(f"0::{own}\n")
    return cg, d, proc


def start(tmp_path, cg, proc, extra=None, v2=True):
    env = {"PATH": os.environ["PATH"], "WORKER_START_CGROUP_FS": str(cg), "WORKER_START_PROC_CGROUP": str(proc)}
    if v2:
        env["WORKER_START_FORCE_V2"] = "1"
    env.update(extra or {})
    # /usr/bin/env as "the worker": prints the environment it was exec'd with.
    r = subprocess.run([str(SCRIPT), "/usr/bin/env"], capture_output=True, text=True, env=env, timeout=30)
    return r, dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)


@pytest.mark.parametrize("own,expect", [("/system.slice/sentinel-worker.service", "/system.slice/sentinel-worker.service/sandboxes"),
                                        ("/", "/sandboxes"),
                                        ("/kubepods/pod1/worker", "/kubepods/pod1/sandboxes")])
def test_worker_start_delegates_a_subtree(tmp_path, own, expect):
    cg, d, proc = fake_tree(tmp_path, own)
    base = d.parent if own.endswith("/worker") else d
    if own.endswith("/worker"):   # restarted inside the leaf it made before
        for f in ("cgroup.procs", "cgroup.controllers", "cgroup.subtree_control"):
            (base / f).write_text((d / f).read_text())
    r, env = start(tmp_path, cg, proc)
    assert r.returncode == 0, r.stderr
    assert env.get("SENTINEL_CGROUP_ROOT") == expect
    assert (base / "sandboxes").is_dir()
    assert (base / "cgroup.subtree_control").read_text().split() == ["+memory", "+pids", "+cpu"]
    assert (base / "worker" / "cgroup.procs").read_text().strip().isdigit()


def test_worker_start_leaves_v1_and_operator_settings_alone(tmp_path):
    cg, d, proc = fake_tree(tmp_path, "/x")
    r, env = start(tmp_path, cg, proc, v2=False)      # a tmpfs is not cgroup2: nothing to do
    assert r.returncode == 0 and "SENTINEL_CGROUP_ROOT" not in env and not (d / "sandboxes").exists()
    r, env = start(tmp_path, cg, proc, {"SENTINEL_CGROUP_ROOT": "/mine"})
    assert r.returncode == 0 and env["SENTINEL_CGROUP_ROOT"] == "/mine" and not (d / "sandboxes").exists()


def test_worker_start_fails_without_a_v2_line(tmp_path):
    cg, d, proc = fake_tree(tmp_path, "/x")
    proc.write_text("4:memory:/x\n")
    r, env = start(tmp_path, cg, proc)
    assert r.returncode != 0 and "no cgroup v2 line" in r.stderr


def test_build_context_configures(tmp_path):
    """The files .dockerignore lets into the build context are enough for the build stage's
    `meson setup` (every source file the build names must be there)."""
    if not shutil.which("meson"):
        pytest.skip("no meson")
    pats = dockerignore()
    ctx = tmp_path / "src"
    listed = run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT).stdout.splitlines()
    for rel in listed:
        if ignored(rel, pats) or not (ROOT / rel).is_file():
            continue
        dst = ctx / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    assert (ctx / "meson.build").is_file()
    r = run(["meson", "setup", str(tmp_path / "build"), str(ctx), "--prefix=/usr", "--buildtype=release",
             "-Dwerror=false"])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    targets = run(["meson", "introspect", "--targets", str(tmp_path / "build")]).stdout
    for t in ("sentinel-api", "sentinel-worker", "sentinel-run"):
        assert f'"name": "{t}"' in targets, t
