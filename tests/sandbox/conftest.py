# SPDX-License-Identifier: Apache-2.0
# Sentinel sandbox suite: fixtures, the run() helper and the host facts checked after every test.
#
# Run as root with Debian's interpreter:
#   SENTINEL_BUILD=<build dir> /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/sandbox
#
# Host facts (checked after every test by the autouse fixture `host_facts`):
#   - no process with a sandbox uid (60000..60063) outlives its sentinel-run;
#   - a world-writable canary file on the host is unchanged, and its content never shows up in
#     any output (stdout, stderr, compile_output, sentinel-run's own stderr);
#   - a TCP listener, a UDP socket and an abstract unix socket on the host saw nothing;
#   - /etc/shadow lines, /etc/passwd and the host's environment token never leak; /etc/passwd
#     and /etc/shadow are unchanged;
#   - the test process's mount table is unchanged and no sentinel-* cgroup is left behind.
import hashlib
import json
import os
import pathlib
import re
import secrets
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = pathlib.Path(os.environ.get("SENTINEL_BUILD", str(REPO / "build")))
BINARY = BUILD / "worker" / "sentinel-run"
LANGS_DIR = REPO / "tests" / "langs"

SOURCE_NAMES = {
    "python": "main.py",
    "c": "main.c",
    "cpp": "main.cpp",
    "javascript": "main.js",
    "java": "Main.java",
    "bash": "main.sh",
}
UID_FIRST, UID_END = 60000, 60064  # sandbox uids: SENTINEL_UID_BASE + slot
VERDICTS = {
    "ACCEPTED", "COMPILE_ERROR", "RUNTIME_ERROR", "TIME_LIMIT_EXCEEDED", "MEMORY_LIMIT_EXCEEDED",
    "OUTPUT_LIMIT_EXCEEDED", "SECURITY_VIOLATION", "INTERNAL_ERROR",
}
RESULT_KEYS = {
    "status", "exit_code", "signal", "cpu_time", "wall_time", "memory", "stdout", "stderr",
    "compile_output", "message", "stdout_truncated", "stderr_truncated", "compile_output_truncated",
    "oom_killed",
}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than ~5 s (deselect with -m 'not slow')")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="the sandbox suite needs root (namespaces, cgroups)")
    for item in items:
        item.add_marker(skip)


# ----------------------------------------------------------------------------------------------
# Host listeners: TCP, UDP and an abstract unix socket on the host, counting whatever reaches them.


class Listeners:
    def __init__(self):
        self.counts = {"tcp": 0, "udp": 0, "abstract": 0}
        self.lock = threading.Lock()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract_name = "sentinel-test-" + secrets.token_hex(6)
        self.abs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abs.bind("\0" + self.abstract_name)
        self.abs.listen(64)
        self.port = self.tcp.getsockname()[1]
        self.udp_port = self.udp.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.tcp, selectors.EVENT_READ, "tcp")
        self.sel.register(self.udp, selectors.EVENT_READ, "udp")
        self.sel.register(self.abs, selectors.EVENT_READ, "abstract")
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="sentinel-listeners", daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopping:
            for key, _ in self.sel.select(timeout=0.2):
                kind = key.data
                try:
                    if kind == "udp":
                        self.udp.recvfrom(65536)
                    else:
                        conn, _ = key.fileobj.accept()
                        conn.close()
                except OSError:
                    continue
                with self.lock:
                    self.counts[kind] += 1

    def take(self):
        """Returns the counts so far and resets them."""
        with self.lock:
            c = dict(self.counts)
            for k in self.counts:
                self.counts[k] = 0
        return c

    def self_check(self):
        """Positive control: the listeners are alive and do count what reaches them."""
        assert self.thread.is_alive(), "host listener thread died"
        before = self.take()
        with socket.create_connection(("127.0.0.1", self.port), timeout=5):
            pass
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"ping", ("127.0.0.1", self.udp_port))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as a:
            a.connect("\0" + self.abstract_name)
        deadline = time.monotonic() + 5
        seen = {"tcp": 0, "udp": 0, "abstract": 0}
        while time.monotonic() < deadline and min(seen.values()) < 1:
            time.sleep(0.02)
            for k, v in self.take().items():
                seen[k] += v
        assert min(seen.values()) >= 1, f"host listeners do not count: {seen}"
        # Whatever arrived before the self check is still a leak: hand it back.
        with self.lock:
            for k, v in before.items():
                self.counts[k] += v

    def close(self):
        self.stopping = True
        self.thread.join(timeout=2)
        for s in (self.tcp, self.udp, self.abs):
            s.close()


# ----------------------------------------------------------------------------------------------
# Host state.


def _read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return b"" if "b" in mode else ""


def _sha(path):
    return hashlib.sha256(_read(path, "rb")).hexdigest()


def _cgroup_dirs():
    """This process's cgroup directories in the memory, pids and cpuacct hierarchies (v1) and in
    the unified hierarchy (v2), as absolute paths under /sys/fs/cgroup."""
    mounts = {}  # controller (or "" for cgroup2) -> mount point
    for line in _read("/proc/self/mountinfo").splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(rfields) < 3:
            continue
        if rfields[0] == "cgroup2":
            mounts.setdefault("", fields[4])
        elif rfields[0] == "cgroup":
            for opt in rfields[2].split(","):
                mounts.setdefault(opt, fields[4])
    dirs = []
    for line in _read("/proc/self/cgroup").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, ctrls, path = parts
        names = ctrls.split(",") if ctrls else [""]
        for name in names:
            if name in ("memory", "pids", "cpuacct", "") and name in mounts:
                dirs.append(os.path.join(mounts[name], path.lstrip("/")))
    return sorted(set(dirs))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _comm(pid):
    return _read(f"/proc/{pid}/comm").strip()


def _ppid(pid):
    stat = _read(f"/proc/{pid}/stat")
    try:
        return int(stat.rsplit(")", 1)[1].split()[1])
    except (IndexError, ValueError):
        return 0


def _uids(pid):
    m = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", _read(f"/proc/{pid}/status"), re.M)
    return [int(u) for u in m.groups()] if m else []


def _is_sandbox_uid(pid):
    return any(UID_FIRST <= u < UID_END for u in _uids(pid))


def _ns_depth(pid):
    m = re.search(r"^NSpid:\s+(.*)$", _read(f"/proc/{pid}/status"), re.M)
    return len(m.group(1).split()) if m else 0


def sandbox_processes():
    """Sandbox processes that no live supervisor owns: processes with a sandbox uid whose first
    ancestor in our pid namespace that is not a sandbox process is init (they were orphaned)
    or this test process; and sentinel-run processes that were orphaned themselves (a launcher
    left behind). Processes under someone else's live sentinel-run (or unit test) are not ours
    to judge: others may run the sandbox concurrently. Returns [(pid, uid, comm, cmdline)]."""
    me, depth = os.getpid(), _ns_depth(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        uids = _uids(pid)
        if not uids:
            continue
        sandboxed = any(UID_FIRST <= u < UID_END for u in uids)
        if not sandboxed and not (_comm(pid) == "sentinel-run" and _ppid(pid) <= 1):
            continue
        owner, seen = pid, set()
        while owner > 1 and owner not in seen:
            seen.add(owner)
            if owner != pid and _ns_depth(owner) == depth and not _is_sandbox_uid(owner):
                break
            owner = _ppid(owner)
        if owner <= 1 or owner == me:
            cmdline = _read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()
            found.append((pid, uids[0], _comm(pid), cmdline[:200]))
    return found


def no_sandbox_processes():
    procs = sandbox_processes()
    assert not procs, f"sandbox processes outlived their run: {procs}"


def leftover_cgroups(our_pids):
    """sentinel-<pid> cgroups (one or two levels below ours) left by a sentinel-run this suite
    started (others may run the sandbox, and its unit tests, concurrently on this host)."""
    left = []
    for d in _cgroup_dirs():
        for pattern in ("sentinel-*", "*/sentinel-*"):
            for p in pathlib.Path(d).glob(pattern):
                m = re.fullmatch(r"sentinel-(\d+)", p.name)
                if m and int(m.group(1)) in our_pids and p.is_dir():
                    left.append(str(p))
    return left


class Host:
    """The host-side canaries and the facts that must hold after every sandboxed run."""

    def __init__(self):
        self.token = secrets.token_hex(16)
        self.canary_dir = tempfile.mkdtemp(prefix="sentinel-canary-", dir="/tmp")
        os.chmod(self.canary_dir, 0o777)  # world-writable: only the sandbox's isolation protects it
        self.canary = os.path.join(self.canary_dir, "secret")
        self.canary_content = f"SENTINEL-CANARY-{self.token}\n"
        with open(self.canary, "w") as f:
            f.write(self.canary_content)
        os.chmod(self.canary, 0o666)
        self.env_token = "SENTINEL-ENV-" + secrets.token_hex(12)
        self.src_prefix = "sentinel-src-"
        self.listeners = Listeners()
        self.listeners.self_check()
        shadow = _read("/etc/shadow")
        # Lines long enough not to occur by chance (a locked "daemon:*:19000:0:99999:7:::" still
        # names its date; enough to recognise a dump).
        self.shadow_lines = [l for l in shadow.splitlines() if len(l) >= 16]
        self.hostname = _read("/etc/hostname").strip() or socket.gethostname()
        self.etc_hashes = {p: _sha(p) for p in ("/etc/passwd", "/etc/shadow", "/etc/hostname")}
        self.outputs = []  # (what, text) of every run since the last check
        self.pids = set()  # every sentinel-run this suite started
        self.reset_baseline()

    def reset_baseline(self):
        self.mountinfo = _read("/proc/self/mountinfo")

    def substitutions(self):
        return {
            "@CANARY@": self.canary,
            "@CANARY_DIR@": self.canary_dir,
            "@PORT@": str(self.listeners.port),
            "@UDPPORT@": str(self.listeners.udp_port),
            "@ABSTRACT@": self.listeners.abstract_name,
            "@HOSTNAME@": self.hostname,
        }

    def record(self, what, text):
        if text:
            self.outputs.append((what, text))

    def leaks(self):
        """Secrets found in the outputs recorded since the last check."""
        found = []
        for what, text in self.outputs:
            if self.token in text:
                found.append(f"canary content in {what}")
            if self.env_token in text:
                found.append(f"host environment (SENTINEL_CANARY_ENV) in {what}")
            for line in self.shadow_lines:
                if line in text:
                    found.append(f"/etc/shadow line {line.split(':')[0]!r} in {what}")
                    break
        return found

    def check(self):
        """Every host fact; returns a list of violations (empty when all hold)."""
        bad = []
        procs = sandbox_processes()
        if procs:
            bad.append(f"sandbox processes outlived their run: {procs}")
            time.sleep(0.5)  # one more look, to tell "slow to die" from "escaped"
            if sandbox_processes():
                bad.append("... and they are still there 0.5 s later")
        if _read(self.canary) != self.canary_content:
            bad.append(f"canary {self.canary} changed: {_read(self.canary)[:200]!r}")
        extra = sorted(set(os.listdir(self.canary_dir)) - {"secret"})
        if extra:
            bad.append(f"new files next to the canary: {extra}")
        bad += self.leaks()
        self.outputs.clear()
        counts = self.listeners.take()
        if any(counts.values()):
            bad.append(f"host listeners were reached from the sandbox: {counts}")
        if not self.listeners.thread.is_alive():
            bad.append("host listener thread died")
        for p, h in self.etc_hashes.items():
            if _sha(p) != h:
                bad.append(f"host {p} changed")
        now = _read("/proc/self/mountinfo")
        if now != self.mountinfo:
            before, after = set(self.mountinfo.splitlines()), set(now.splitlines())
            bad.append(f"host mount table changed: added {sorted(after - before)} removed {sorted(before - after)}")
            self.mountinfo = now
        left = leftover_cgroups(self.pids)
        if left:
            bad.append(f"leftover cgroups: {left}")
        return bad

    def close(self):
        self.listeners.close()
        shutil.rmtree(self.canary_dir, ignore_errors=True)


HOST = None


@pytest.fixture(scope="session")
def host():
    global HOST
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is not built (meson compile -C {BUILD})")
    HOST = Host()
    yield HOST
    HOST.close()
    HOST = None


@pytest.fixture(autouse=True)
def host_facts(host):
    """After every test: the host facts hold (see the top of this file)."""
    yield host
    bad = host.check()
    assert not bad, "host facts violated:\n  " + "\n  ".join(bad)


# ----------------------------------------------------------------------------------------------
# Running sentinel-run.


def _source_text(source):
    if isinstance(source, pathlib.Path):
        return source.read_bytes()
    if isinstance(source, bytes):
        return source
    if "\n" not in source and len(source) < 4096 and os.path.isfile(source):
        return pathlib.Path(source).read_bytes()  # a path given as a string
    return source.encode()


def substitute(data):
    for k, v in HOST.substitutions().items():
        data = data.replace(k.encode(), v.encode())
    return data


def sentinel_env():
    env = dict(os.environ)
    env["SENTINEL_CANARY_ENV"] = HOST.env_token
    env.pop("SENTINEL_LOG_LEVEL", None)
    return env


# Under software emulation (the cgroup v2 VM) everything runs about ten times slower; the harness's
# own deadlines stretch by this factor (the sandbox's limits come from SENTINEL_* as usual).
SLOWDOWN = max(1.0, float(os.environ.get("SENTINEL_TEST_SLOWDOWN", "1")))


def run_raw(argv, source=None, lang=None, stdin=None, timeout=60):
    """Runs sentinel-run with argv (source, when given, is written to a temporary file named for
    lang and appended). Returns the CompletedProcess with bytes stdout/stderr."""
    assert HOST is not None, "the host fixture is not set up"
    timeout *= SLOWDOWN
    with tempfile.TemporaryDirectory(prefix=HOST.src_prefix) as tmp:
        argv = [str(BINARY)] + list(argv)
        if stdin is not None:
            sp = os.path.join(tmp, "stdin")
            if isinstance(stdin, pathlib.Path):
                shutil.copyfile(stdin, sp)
            else:
                with open(sp, "wb") as f:
                    f.write(stdin if isinstance(stdin, bytes) else stdin.encode())
            argv += ["--stdin", sp]
        if source is not None:
            name = SOURCE_NAMES.get(lang, "main.txt")
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(substitute(_source_text(source)))
            argv.append(path)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=sentinel_env(),
                             stdin=subprocess.DEVNULL, cwd=tmp)
        HOST.pids.add(p.pid)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()  # our own child, by its pid
            out, err = p.communicate()
            pytest.fail(f"sentinel-run did not finish within {timeout} s: {argv}\nstderr: {err[-2000:]!r}")
    HOST.record("sentinel-run stdout", out.decode("utf-8", "replace"))
    HOST.record("sentinel-run stderr", err.decode("utf-8", "replace"))
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


def run(lang, source, stdin=None, args=(), timeout=60):
    """Runs a program with --json. source: text, bytes, or a pathlib.Path; @CANARY@, @PORT@,
    @UDPPORT@, @ABSTRACT@ are substituted. Returns (returncode, result dict); fails the test when
    sentinel-run does not print one JSON object."""
    p = run_raw(["--lang", lang, "--json", *args], source=source, lang=lang, stdin=stdin, timeout=timeout)
    try:
        data = json.loads(p.stdout)
    except ValueError:
        pytest.fail(f"sentinel-run (exit {p.returncode}) printed no JSON object.\n"
                    f"stdout: {p.stdout[:2000]!r}\nstderr: {p.stderr[-2000:]!r}")
    assert isinstance(data, dict), data
    for key in ("stdout", "stderr", "compile_output", "message"):
        if isinstance(data.get(key), str):
            HOST.record(key, data[key])
    return p.returncode, data


def describe(data):
    """Short text of a result for assertion messages."""
    d = dict(data)
    for k in ("stdout", "stderr", "compile_output"):
        if isinstance(d.get(k), str) and len(d[k]) > 1500:
            d[k] = d[k][:1500] + f"...[{len(data[k])} chars]"
    return json.dumps(d, indent=1)


@pytest.fixture
def sandbox(host):
    """The Host, for tests that want its canary paths or listener ports."""
    return host
