# SPDX-License-Identifier: Apache-2.0
# Sentinel sandbox suite: hostile programs (tests/sandbox/hostile/) against sentinel-run.
#
# One table, CASES: program -> language (from the extension), extra CLI flags, the verdicts that
# are acceptable, text its stdout must contain, and extra checks. Every program prints
# "BLOCKED ..." when an attack fails and "ESCAPED ..." when it works; no case may print ESCAPED.
# The host facts (no process left, canary unchanged and not leaked, host listeners untouched,
# /etc unchanged, mount table unchanged, no leftover cgroup) are checked after every case by
# conftest.py's autouse fixture. The attack and its catalogue source are in each program's header
# (see attack_and_source()); tests/sandbox/breakout-table.py prints the table for docs/SECURITY.md.
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest

from conftest import HERE, UID_END, UID_FIRST, describe, run

HOSTILE = HERE / "hostile"
LANG_BY_EXT = {".c": "c", ".cpp": "cpp", ".py": "python", ".sh": "bash", ".js": "javascript", ".java": "java"}

ACC = {"ACCEPTED"}
TLE = {"TIME_LIMIT_EXCEEDED"}
MLE = {"MEMORY_LIMIT_EXCEEDED"}
OLE = {"OUTPUT_LIMIT_EXCEEDED"}
SV = {"SECURITY_VIOLATION"}
CE = {"COMPILE_ERROR"}
RE = {"RUNTIME_ERROR"}

QUICK_TIME = ("--time", "1", "--wall-time", "2")
CLEAN_ENV = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "USER"}
HOST_PATH_RE = re.compile(r"(^|[\s=:])(/work|/root|/home|/run/sentinel|/tmp/sentinel-)(/|\s|$)", re.M)


@dataclass
class Case:
    file: str
    verdicts: set
    args: tuple = ()
    expect: tuple = ()               # substrings that must be in stdout
    message: Optional[str] = None    # substring of the result's message (the blocked syscall)
    check: Optional[Callable] = None  # check(result, host): extra assertions
    stdin: Optional[bytes] = None
    slow: bool = False
    facts: tuple = ()                # extra host facts, for the table (the always-on ones are implied)
    timeout: int = 60

    @property
    def lang(self):
        return LANG_BY_EXT[os.path.splitext(self.file)[1]]


# ---------------------------------------------------------------------------------------------
# Extra checks.

def number_after(text, word):
    m = re.search(re.escape(word) + r"\s*(\d+)", text)
    assert m, f"no {word!r} number in {text[:500]!r}"
    return int(m.group(1))


def cpu_at_least(limit):
    def check(d, host):
        assert d["cpu_time"] >= limit, describe(d)
    return check


def wall_between(lo, hi):
    def check(d, host):
        assert lo <= d["wall_time"] < hi, describe(d)
    return check


def all_of(*checks):
    def check(d, host):
        for c in checks:
            c(d, host)
    return check


def children_below(n):
    def check(d, host):
        assert number_after(d["stdout"], "CHILDREN") < n
    return check


def blocked_count_below(word, n):
    def check(d, host):
        assert number_after(d["stdout"], word) <= n, d["stdout"]
    return check


def cpu_over_wall(d, host):
    assert d["cpu_time"] >= 1.0, describe(d)
    if (os.cpu_count() or 1) >= 2:
        assert d["cpu_time"] > d["wall_time"] * 1.1, f"threads' CPU not summed: {describe(d)}"


def children_cpu_counted(d, host):
    # The parent only waits: the CPU limit can only trigger if the children's time counts.
    assert d["cpu_time"] >= 1.0 and d["wall_time"] < 4.5, describe(d)


def listener_still_works(d, host):
    host.listeners.self_check()


def stdout_capped(d, host):
    assert d["stdout_truncated"] is True and 0 < len(d["stdout"]) <= 64 * 1024, describe(d)


def stderr_capped(d, host):
    assert d["stderr_truncated"] is True and 0 < len(d["stderr"]) <= 64 * 1024, describe(d)


def trickle_complete(d, host):
    assert d["stdout"] == "".join(f"line {i}\n" for i in range(30)), describe(d)
    assert d["wall_time"] >= 2.9


def spoof_ignored(d, host):
    assert d["exit_code"] == 0 and d["message"] in ("", None), describe(d)


def binary_kept(d, host):
    out = d["stdout"]
    assert out.endswith("\nEND") and "L" * 200000 in out, describe(d)


def sigxfsz(d, host):
    assert d["signal"] == 25, describe(d)


def few_pids(d, host):
    npids, maxpid = number_after(d["stdout"], "PIDS"), number_after(d["stdout"], "MAX")
    assert npids <= 4 and maxpid < 100, d["stdout"]
    # pid 1 is the box's init (a fork of sentinel-run); nothing else of the host may show.
    for word in ("pytest", "systemd", "sshd", "process_api", "python3 -m"):
        assert word not in d["stdout"], f"host process visible: {d['stdout']}"


def no_host_paths(key="stdout"):
    def check(d, host):
        text = d[key] or ""
        m = HOST_PATH_RE.search(text)
        assert not m, f"host path {m.group(2)!r} visible in {key}: {text[:3000]}"
        assert host.src_prefix not in text and host.canary_dir not in text, text[:3000]
    return check


def env_keys(text, prefix="ENV "):
    return {l[len(prefix):].split("=", 1)[0] for l in text.splitlines() if l.startswith(prefix)}


def clean_env(d, host):
    keys = env_keys(d["stdout"])
    assert keys and keys <= CLEAN_ENV, f"unexpected variables: {keys - CLEAN_ENV}"
    assert "ENV HOME=/box" in d["stdout"]


def clean_env_bash(d, host):
    keys = env_keys(d["stdout"])
    extra = keys - CLEAN_ENV - {"PWD", "SHLVL", "_", "OLDPWD"}
    assert keys and not extra, f"unexpected variables: {extra}"


def clean_env_node(d, host):
    keys = set(re.search(r"ENVKEYS (.*)", d["stdout"]).group(1).split(","))
    assert keys <= CLEAN_ENV, f"unexpected variables: {keys - CLEAN_ENV}"


def status_fields(d, host):
    st = {}
    for l in d["stdout"].splitlines():
        if l.startswith("STATUS "):
            k, _, v = l[7:].partition(":")
            st[k.strip()] = v.split()
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap][0], 16) == 0, f"{cap} = {st[cap]}"
    assert st["NoNewPrivs"] == ["1"], st
    assert st["Seccomp"] == ["2"], st
    for k in ("Uid", "Gid"):
        assert all(UID_FIRST <= int(x) < UID_END for x in st[k]), st[k]
    assert st.get("Groups", []) == [], st.get("Groups")


def pinfo(d, host):
    out = dict(l.split(" ", 1) for l in d["stdout"].splitlines() if " " in l)
    assert out["CWD"] == "/box" and out["PPID"] == "1" and int(out["PID"]) <= 3, out
    assert out["HOSTNAME"] != host.hostname, out
    assert UID_FIRST <= int(out["UID"]) < UID_END, out


def only_std_fds(d, host):
    fds = re.findall(r"^FD (\d+)", d["stdout"], re.M)
    assert fds == ["0", "1", "2"], d["stdout"]
    assert "CWD /box" in d["stdout"]


def all_eafnosupport(d, host):
    lines = [l for l in d["stdout"].splitlines() if l.startswith("BLOCKED socket")]
    assert len(lines) == 4 and all(l.endswith("errno=97") for l in lines), d["stdout"]


def uid_not_root(d, host):
    m = re.search(r"CHILD uid=(\d+) euid=(\d+)", d["stdout"])
    assert m and int(m.group(2)) != 0, d["stdout"]


def bounded_openfiles(d, host):
    assert number_after(d["stdout"], "after") <= 256, d["stdout"]


def tmp_fill(limit_mib):
    def check(d, host):
        assert number_after(d["stdout"], "after") <= limit_mib, d["stdout"]
    return check


def compile_no_shadow(d, host):
    assert "shadow" in (d["compile_output"] or ""), describe(d)


def compile_output_capped(d, host):
    co = d["compile_output"] or ""
    assert d["compile_output_truncated"] is True, describe(d)
    assert 0 < len(co) <= 2 * 64 * 1024, len(co)


def uid_in_java(d, host):
    assert re.search(r"ID uid=60\d\d\d", d["stdout"]), d["stdout"]


def threads_below(n):
    def check(d, host):
        assert number_after(d["stdout"], "after") < n, d["stdout"]
    return check


def mle_or_blocked(d, host):
    if d["status"] == "ACCEPTED":
        assert "BLOCKED write" in d["stdout"], d["stdout"]


def quick(limit):
    return wall_between(0, limit)


# ---------------------------------------------------------------------------------------------
# The table.

def sv(file, name):
    return Case(file, SV, expect=(f"TRYING {name}",), message=name)


BIG_STDIN = b"".join(b"%07d ignored input line\n" % i for i in range(350000))  # ~8 MB

CASES = [
    # Resource exhaustion: processes and threads
    Case("forkbomb.c", TLE, ("--pids", "16", "--time", "1", "--wall-time", "3"), ("BLOCKED fork",)),
    Case("fork4096.c", ACC, ("--pids", "16"), ("BLOCKED fork",), check=children_below(16)),
    Case("forkbomb.sh", ACC | TLE | RE, ("--pids", "16", "--time", "2", "--wall-time", "4")),
    Case("threadbomb.c", ACC, ("--pids", "16"), ("BLOCKED pthread_create",), check=threads_below(16)),
    Case("fork_bomb.py", ACC | TLE, ("--pids", "16", "--time", "2", "--wall-time", "4"), ("BLOCKED fork",)),
    # memory
    Case("heap_bomb.c", MLE, ("--memory", "64")),
    Case("stack_recursion.c", MLE | RE, ("--memory", "64")),
    Case("bss_static.c", MLE, ("--memory", "64")),
    Case("mmap_overcommit.c", MLE, ("--memory", "64"), ("mapped",)),
    Case("tmpfs_memory_charge.c", MLE | ACC, ("--memory", "32"), check=mle_or_blocked),
    # disk
    Case("tmpfs_fill_tmp.c", ACC, (), ("errno=28",), check=tmp_fill(64)),
    Case("tmpfs_fill_box.c", ACC, (), ("errno=28",), check=tmp_fill(128)),
    Case("inode_exhaust.c", ACC, (), ("BLOCKED create errno=28",), check=blocked_count_below("after", 20000)),
    Case("fsize_limit.c", RE, (), ("wrote 64 MiB",), check=sigxfsz),
    Case("sparse_file.c", ACC, (), ("BLOCKED pwrite errno=27",)),
    Case("openfiles.c", ACC, (), ("BLOCKED open errno=24",), check=bounded_openfiles),
    # CPU and wall time
    Case("busy.c", TLE, ("--time", "1", "--wall-time", "3"), check=cpu_at_least(1.0)),
    Case("cpu_threads.c", TLE, ("--time", "1", "--wall-time", "5"), check=cpu_over_wall),
    Case("cpu_children.c", TLE, ("--time", "1", "--wall-time", "5"), check=children_cpu_counted),
    # The wall limit is only a backstop here: under software emulation (the v2 VM) Node can take
    # over 3 s of wall time to spend 1 s of CPU.
    Case("node_infinite.js", TLE, ("--time", "1", "--wall-time", "10"), check=cpu_at_least(1.0)),
    Case("sleep_dodge.c", TLE, QUICK_TIME, check=wall_between(2.0, 4.0)),
    Case("select_dodge.py", TLE, QUICK_TIME, check=wall_between(2.0, 4.0)),
    Case("pause_self.c", TLE, QUICK_TIME, check=wall_between(2.0, 4.0)),
    Case("sigstop_self.c", TLE, QUICK_TIME, ("stopping",), check=wall_between(2.0, 4.0)),
    Case("sigterm_ignore.c", TLE, QUICK_TIME, ("ignoring signals",), check=wall_between(2.0, 3.5)),
    # escaping supervision
    Case("double_fork_setsid.c", ACC, ("--wall-time", "10"), ("parent done",), check=quick(5.0),
         facts=("no process left after the parent exits",)),
    Case("suspend_ppid.c", ACC, (), ("BLOCKED parent still there",)),
    Case("kill_all.c", ACC, (), ("survived",), check=listener_still_works,
         facts=("host listener thread alive and counting",)),
    # output
    Case("stdout_flood.c", OLE, ("--output", "64"), check=stdout_capped),
    Case("stderr_flood.c", OLE, ("--output", "64"), check=stderr_capped),
    Case("slow_trickle.py", ACC, (), check=trickle_complete),
    Case("spoof_verdict.c", ACC, (), ("TIME_LIMIT_EXCEEDED",), check=spoof_ignored),
    Case("binary_output.c", ACC, (), check=binary_kept),
    Case("no_read_stdin.c", ACC, (), ("DONE",), stdin=BIG_STDIN, check=quick(5.0)),
    # reading what it should not
    Case("read_shadow.c", ACC, (), ("BLOCKED open /etc/shadow", "BLOCKED /etc/gshadow")),
    Case("read_canary.c", ACC, (), ("BLOCKED open canary",)),
    Case("write_canary.sh", ACC, (), ("BLOCKED write canary", "BLOCKED plant")),
    Case("sol_searcher.py", ACC, ("--wall-time", "10"), ("SCANNED",)),
    Case("junk_other_boxes.c", ACC, (), ("BLOCKED /run/sentinel ", "BLOCKED /work ")),
    Case("proc_list.py", ACC, (), ("PIDS",), check=few_pids),
    Case("proc_environ.c", ACC, (), ("/proc/self/environ",), check=no_host_paths(),
         facts=("host environment token absent",)),
    Case("printenv.c", ACC, (), check=clean_env),
    Case("printenv.sh", ACC, (), check=clean_env_bash),
    Case("mountinfo.c", ACC, (), ("MOUNT",), check=no_host_paths()),
    Case("sys_probe.c", ACC, (), ("BLOCKED /sys/fs/cgroup",)),
    Case("proc_masked.c", ACC, (), ("BLOCKED read /proc/kcore", "BLOCKED write /proc/sysrq-trigger")),
    Case("dev_kmsg.c", ACC, (), ("BLOCKED /dev/kmsg", "OPEN /dev/null")),
    Case("caps_status.c", ACC, (), ("STATUS CapEff",), check=status_fields),
    Case("pinfo.c", ACC, (), ("HOSTNAME",), check=pinfo),
    Case("fd_leak.c", ACC, (), ("FD 0",), check=only_std_fds),
    Case("bash_probe.sh", ACC, (), ("BLOCKED tcp", "BLOCKED /etc/shadow")),
    Case("node_fs.js", ACC, (), ("BLOCKED /etc/shadow", "ENVKEYS"), check=clean_env_node),
    Case("java_exec.java", ACC, (), ("BLOCKED /etc/shadow",), check=uid_in_java, slow=True),
    # kernel attack surface: seccomp kills
    sv("syslog.c", "syslog"),
    Case("dmesg.sh", SV | ACC | RE, (), ()),
    sv("sethostname.c", "sethostname"),
    sv("mount_root.c", "mount"),
    sv("umount_root.c", "umount2"),
    sv("pivot_root.c", "pivot_root"),
    sv("fsopen.c", "fsopen"),
    sv("open_tree.c", "open_tree"),
    sv("unshare_userns.c", "unshare"),
    sv("unshare_netns.c", "unshare"),
    sv("clone_newuser.c", "clone"),
    sv("setns.c", "setns"),
    sv("ptrace_traceme.c", "ptrace"),
    sv("ptrace_attach_init.c", "ptrace"),
    sv("process_vm_readv.c", "process_vm_readv"),
    sv("bpf.c", "bpf"),
    sv("perf_event_open.c", "perf_event_open"),
    sv("userfaultfd.c", "userfaultfd"),
    sv("keyctl.c", "keyctl"),
    sv("add_key.c", "add_key"),
    sv("request_key.c", "request_key"),
    sv("kexec_load.c", "kexec_load"),
    sv("init_module.c", "init_module"),
    sv("finit_module.c", "finit_module"),
    sv("reboot.c", "reboot"),
    sv("swapon.c", "swapon"),
    sv("acct.c", "acct"),
    sv("open_by_handle_at.c", "open_by_handle_at"),
    sv("clock_settime.c", "clock_settime"),
    sv("settimeofday.c", "settimeofday"),
    sv("modify_ldt.c", "modify_ldt"),
    sv("fanotify_init.c", "fanotify_init"),
    sv("quotactl.c", "quotactl"),
    sv("name_to_handle_at.c", "name_to_handle_at"),
    sv("tiocsti.c", "ioctl"),
    sv("tiocsti_highbits.c", "ioctl"),
    sv("tioclinux.c", "ioctl"),
    Case("int80.c", SV, (), ("TRYING int 0x80",)),
    Case("x32.c", SV, (), ("TRYING x32",)),
    # kernel attack surface: errno answers
    Case("io_uring_setup.c", ACC, (), ("BLOCKED io_uring_setup r=-1 errno=38",)),
    Case("clone3.c", ACC, (), ("BLOCKED clone3 errno=38", "fork works")),
    sv("personality.c", "personality"),
    sv("chroot.c", "chroot"),
    sv("pidfd_getfd.c", "pidfd_getfd"),
    Case("adjtimex.c", ACC, (), ("BLOCKED adjtimex r=-1 errno=1",)),
    Case("clock_adjtime.c", ACC, (), ("BLOCKED clock_adjtime r=-1 errno=1",)),
    Case("socket_netlink.c", ACC, (), (), check=all_eafnosupport),
    Case("socket_packet.c", ACC, (), (), check=all_eafnosupport),
    Case("socket_vsock.c", ACC, (), (), check=all_eafnosupport),
    Case("socket_appletalk.c", ACC, (), (), check=all_eafnosupport),
    Case("socket_raw_inet.c", ACC, (), ("BLOCKED raw socket", "BLOCKED raw6 socket")),
    # network
    Case("tcp_connect_host.c", ACC, (), ("errno=111", "BLOCKED connect 1.1.1.1:80")),
    Case("udp_sendto_host.c", ACC, (), ("sendto 127.0.0.1",)),
    Case("dns.py", ACC, (), ("BLOCKED dns",)),
    Case("abstract_unix.c", ACC, (), ("BLOCKED abstract connect", "BLOCKED dbus socket")),
    Case("node_net.js", ACC, (), ("BLOCKED tcp", "BLOCKED dns")),
    # host-side path tricks and special files
    Case("symlink_plant.py", ACC, (), ("BLOCKED read through /box/main.py", "BLOCKED read through /box/up"),
         facts=("/etc/passwd and /etc/shadow unchanged",)),
    Case("hardlink.c", ACC, (), ("BLOCKED link /usr/bin/bash", "BLOCKED link /etc/passwd")),
    Case("fifo_left.c", ACC, (), ("DONE",), check=quick(5.0)),
    Case("setuid_bit.c", ACC, (), ("CHILD uid=",), check=uid_not_root),
    Case("setuid_usr.sh", ACC | SV, (), ()),
    Case("mknod.c", ACC, (), ("BLOCKED mknod /box/sda errno=1", "BLOCKED mknod /box/mem errno=1")),
    Case("write_usr.c", ACC, (), ("BLOCKED /usr/bin/python3", "BLOCKED /etc/passwd", "BLOCKED /evil")),
    Case("exec_tmp.c", ACC, (), ("BLOCKED exec /tmp errno=13",)),
    Case("proc_self_exe.c", ACC, (), ("BLOCKED open /proc/self/exe flags=1", "BLOCKED open /proc/1/exe flags=0")),
    # compile time
    Case("include_shadow.c", CE, (), check=compile_no_shadow),
    Case("include_random.c", CE | TLE, (), slow=True),
    Case("include_proc.c", CE, (), check=no_host_paths("compile_output")),
    Case("template_bomb.cpp", CE, (), slow=True),
    Case("constexpr_bomb.cpp", CE, ()),
    Case("huge_static_init.c", CE, (), slow=True),
    Case("compile_output_flood.c", CE, (), check=compile_output_capped, slow=True),
    # Java
    Case("java_memory_bomb.java", RE | MLE, (), slow=True),
    Case("java_thread_bomb.java", ACC | RE, (), slow=True),
]


def attack_and_source(file):
    """The Attack: and Source: lines of a hostile program's header comment."""
    text = (HOSTILE / file).read_text()
    out = {}
    for key in ("Attack", "Source", "Expect"):
        m = re.search(rf"^\W*{key}:\s*(.*(?:\n(?!\W*(?:Attack|Source|Expect):)[ \t]*(?:\*|//|#)[ \t]+\S.*)*)", text, re.M)
        if m:
            lines = [re.sub(r"^\s*(\*|//|#)\s*", "", l) for l in m.group(1).splitlines()]
            out[key] = " ".join(l.strip().rstrip("*/").strip() for l in lines)
    return out


def _param(case):
    marks = [pytest.mark.slow] if case.slow else []
    return pytest.param(case, id=case.file, marks=marks)


def test_table_covers_every_program():
    listed = {c.file for c in CASES}
    on_disk = {p.name for p in HOSTILE.iterdir() if p.suffix in LANG_BY_EXT}
    assert listed == on_disk, f"not in CASES: {on_disk - listed}; missing files: {listed - on_disk}"
    for f in on_disk:
        hdr = attack_and_source(f)
        assert hdr.get("Attack") and hdr.get("Source"), f"{f}: header lacks Attack:/Source:"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_hostile(case, host, record_property):
    rc, d = run(case.lang, HOSTILE / case.file, stdin=case.stdin, args=case.args, timeout=case.timeout)
    record_property("status", d.get("status"))
    record_property("message", d.get("message"))
    assert rc == 0, f"sentinel-run exit {rc}: {describe(d)}"
    assert d["status"] in case.verdicts, f"verdict {d['status']} not in {sorted(case.verdicts)}: {describe(d)}"
    for stream in ("stdout", "stderr"):
        assert "ESCAPED" not in (d[stream] or ""), f"attack worked ({stream}): {describe(d)}"
    for text in case.expect:
        assert text in d["stdout"], f"{text!r} not in stdout: {describe(d)}"
    if case.message and d["status"] == "SECURITY_VIOLATION":
        assert f"blocked system call: {case.message} (" in d["message"], f"message does not name {case.message}: {describe(d)}"
    if case.check:
        case.check(d, host)


def test_no_state_between_runs(host):
    """udge junk / sol-searcher across runs: what one run leaves in /box, /tmp, SysV IPC, the
    abstract socket namespace or background processes must not reach the next run."""
    plant = r"""
import os, socket, subprocess, sys
open("/box/planted", "w").write("from run 1")
open("/tmp/planted", "w").write("from run 1")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0sentinel-planted")
s.listen(1)
subprocess.Popen(["/usr/bin/sleep", "30"], start_new_session=True)
print("PLANTED")
"""
    rc, d = run("python", plant)
    assert d["status"] == "ACCEPTED" and "PLANTED" in d["stdout"], describe(d)
    probe = r"""
import os, socket
for p in ("/box/planted", "/tmp/planted"):
    print(("ESCAPED " if os.path.exists(p) else "BLOCKED ") + p)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("\0sentinel-planted")
    print("ESCAPED abstract socket from run 1")
except OSError as e:
    print("BLOCKED abstract", e.errno)
others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) > 2]
print("ESCAPED processes of run 1" if others else "BLOCKED no other processes", others)
"""
    rc, d = run("python", probe)
    assert d["status"] == "ACCEPTED", describe(d)
    assert "ESCAPED" not in d["stdout"] and d["stdout"].count("BLOCKED") == 4, describe(d)
