# SPDX-License-Identifier: Apache-2.0
# Sentinel sandbox suite: every language runs, and the verdicts, limits and CLI behave as documented.
import json
import os
import re

import pytest

from conftest import LANGS_DIR, RESULT_KEYS, SLOWDOWN, SOURCE_NAMES, VERDICTS, describe, run, run_raw

LANG_IDS = ["python", "c", "cpp", "javascript", "java", "bash"]
COMPILED = {"c", "cpp", "java"}
SUMMARY_RE = re.compile(
    r"^(?P<status>[A-Z_]+)  cpu (?P<cpu>\d+\.\d{3}) s  wall (?P<wall>\d+\.\d{3}) s  mem (?P<mem>\d+\.\d) MB(  \(.*\))?$")


def check_shape(data):
    missing = RESULT_KEYS - data.keys()
    assert not missing, f"result lacks {missing}: {describe(data)}"
    assert data["status"] in VERDICTS
    assert isinstance(data["cpu_time"], (int, float)) and data["cpu_time"] >= 0
    assert isinstance(data["wall_time"], (int, float)) and data["wall_time"] >= 0
    assert isinstance(data["memory"], int) and data["memory"] >= 0


@pytest.mark.parametrize("lang", LANG_IDS)
def test_hello(lang):
    src = LANGS_DIR / lang / SOURCE_NAMES[lang]
    rc, d = run(lang, src)
    check_shape(d)
    assert rc == 0
    assert d["status"] == "ACCEPTED", describe(d)
    assert d["stdout"] == "OK\n", describe(d)
    assert d["exit_code"] == 0 and d["signal"] is None
    assert d["wall_time"] > 0 and d["memory"] > 0
    if lang in COMPILED:
        assert isinstance(d["compile_output"], str)
        assert d["compile"]["status"] == "ACCEPTED", describe(d)
    else:
        assert d["compile_output"] is None
        assert "compile" not in d


def test_stdin_passthrough():
    data = "line one\nzwei ü\n" + "x" * 100000 + "\nlast"
    rc, d = run("python", "import sys\nsys.stdout.write(sys.stdin.read())\n", stdin=data)
    assert d["status"] == "ACCEPTED", describe(d)
    assert d["stdout"] == data


def test_loader_cache_and_locale_aliases_are_there():
    """The sandbox's /etc shows the host's loader cache (else ld.so probes a dozen directories for
    each library a program links) and locale.alias (/usr/share/locale/locale.alias links to it),
    read-only, and nothing else of the host's /etc."""
    src = ("import os\n"
           "print(sorted(os.listdir('/etc')))\n"
           "print(len(open('/etc/ld.so.cache', 'rb').read()))\n"
           "try:\n    open('/etc/ld.so.cache', 'ab')\nexcept OSError as e:\n    print('ro', e.errno)\n")
    rc, d = run("python", src)
    assert d["status"] == "ACCEPTED", describe(d)
    listing, size, ro = d["stdout"].splitlines()[:3]
    assert "'ld.so.cache'" in listing and "'locale.alias'" in listing, listing
    assert "shadow" not in listing and "hostname" not in listing, listing
    assert int(size) == os.path.getsize("/etc/ld.so.cache")
    assert ro.startswith("ro "), d["stdout"]


def test_exit_code():
    rc, d = run("python", "import sys\nprint('before')\nsys.exit(3)\n")
    assert rc == 0
    assert d["status"] == "RUNTIME_ERROR", describe(d)
    assert d["exit_code"] == 3 and d["signal"] is None
    assert d["stdout"] == "before\n"


def test_segfault():
    rc, d = run("c", "#include <stdio.h>\nint main(void){ puts(\"start\"); fflush(stdout);"
                     " volatile int *p = 0; *p = 1; return 0; }\n")
    assert d["status"] == "RUNTIME_ERROR", describe(d)
    assert d["signal"] == 11 and d["exit_code"] is None
    assert d["stdout"] == "start\n"


def test_compile_error():
    rc, d = run("c", "int main(void) { return undeclared_thing; }\n")
    assert rc == 0
    assert d["status"] == "COMPILE_ERROR", describe(d)
    assert "undeclared_thing" in d["compile_output"] and "error" in d["compile_output"]
    assert d["stdout"] == "" and d["stderr"] == ""
    assert d["compile"]["status"] != "ACCEPTED"
    assert d["exit_code"] is None and d["signal"] is None


def test_cpu_time_limit():
    rc, d = run("python", "while True:\n    pass\n", args=["--time", "1"])
    assert d["status"] == "TIME_LIMIT_EXCEEDED", describe(d)
    assert d["cpu_time"] >= 1.0, describe(d)
    assert d["wall_time"] < 5, describe(d)


def test_wall_time_limit():
    rc, d = run("python", "import time\ntime.sleep(100)\n", args=["--wall-time", "1"])
    assert d["status"] == "TIME_LIMIT_EXCEEDED", describe(d)
    assert 1.0 <= d["wall_time"] < 4, describe(d)
    # Sleeping burns no CPU; Python's own start-up does (over a second under emulation).
    assert d["cpu_time"] < 0.5 * SLOWDOWN, describe(d)


def test_default_wall_follows_cpu():
    # --time without --wall-time: wall = max(10 s default, 2 x cpu); a 1 s sleep is fine.
    rc, d = run("python", "import time\ntime.sleep(1.2)\nprint('woke')\n", args=["--time", "1"])
    assert d["status"] == "ACCEPTED", describe(d)
    assert d["stdout"] == "woke\n"


def test_memory_limit():
    src = "x = []\nwhile True:\n    x.append(bytearray(1 << 20))\n"
    rc, d = run("python", src, args=["--memory", "64"])
    assert d["status"] == "MEMORY_LIMIT_EXCEEDED", describe(d)
    assert d["oom_killed"] is True
    assert d["memory"] <= 80 * 1024, describe(d)


def test_memory_limit_not_hit():
    src = "x = bytearray(32 << 20)\nfor i in range(0, len(x), 4096): x[i] = 1\nprint('ok')\n"
    rc, d = run("python", src, args=["--memory", "64"])
    assert d["status"] == "ACCEPTED", describe(d)
    assert 32 * 1024 <= d["memory"] <= 64 * 1024, describe(d)


def test_output_limit():
    src = "import sys\nwhile True:\n    sys.stdout.write('y' * 4096)\n"
    rc, d = run("python", src, args=["--output", "64"])
    assert d["status"] == "OUTPUT_LIMIT_EXCEEDED", describe(d)
    assert d["stdout_truncated"] is True
    assert 0 < len(d["stdout"]) <= 64 * 1024
    assert set(d["stdout"]) == {"y"}


def test_output_at_limit_is_fine():
    # Exactly 64 KiB is within a 64 KB limit.
    src = "import sys\nsys.stdout.write('z' * 65536)\n"
    rc, d = run("python", src, args=["--output", "64"])
    assert d["status"] == "ACCEPTED", describe(d)
    assert d["stdout_truncated"] is False and len(d["stdout"]) == 65536


def test_plain_mode_passthrough():
    src = "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n"
    p = run_raw(["--lang", "python"], source=src, lang="python")
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"to stdout\n"
    lines = p.stderr.decode().splitlines()
    assert lines[0] == "to stderr"
    m = SUMMARY_RE.match(lines[-1])
    assert m and m["status"] == "ACCEPTED", lines
    assert len(lines) == 2, lines


def test_plain_mode_verdict_line_for_tle():
    p = run_raw(["--lang", "python", "--time", "1"], source="while 1: pass\n", lang="python")
    assert p.returncode == 0
    m = SUMMARY_RE.match(p.stderr.decode().splitlines()[-1])
    assert m and m["status"] == "TIME_LIMIT_EXCEEDED", p.stderr
    assert float(m["cpu"]) >= 1.0


def test_plain_mode_compile_error_shows_compiler_output():
    p = run_raw(["--lang", "c"], source="int main(void) { return nope; }\n", lang="c")
    assert p.returncode == 0
    err = p.stderr.decode()
    assert "nope" in err
    assert SUMMARY_RE.match(err.splitlines()[-1]).group("status") == "COMPILE_ERROR"


@pytest.mark.parametrize("argv, needle", [
    (["x.py"], "--lang"),
    (["--lang", "cobol", "x.py"], "available: python c cpp javascript java bash"),
    (["--lang", "python", "/nonexistent/main.py"], "/nonexistent/main.py"),
    (["--lang", "python", "--time", "abc", "x.py"], "--time"),
    (["--lang", "python", "--time", "-1", "x.py"], "--time"),
    (["--lang", "python", "--memory", "999999", "x.py"], "--memory"),
    (["--lang", "python", "--time", "100000", "x.py"], "--time"),
    (["--lang", "python", "--pids", "2.5", "x.py"], "--pids"),
    (["--lang", "python", "--bogus", "x.py"], "--bogus"),
    (["--lang", "python"], "FILE"),
    (["--lang", "python", "a.py", "b.py"], "b.py"),
], ids=["no-lang", "unknown-lang", "missing-file", "time-abc", "time-negative", "memory-max",
        "time-max", "pids-fraction", "unknown-option", "no-file", "two-files"])
def test_usage_errors(argv, needle, tmp_path):
    p = run_raw(argv)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert needle in p.stderr.decode(), p.stderr
    assert p.stdout == b""


def test_stdin_too_large_or_missing():
    p = run_raw(["--lang", "python", "--stdin", "/nonexistent/in"], source="print(1)\n", lang="python")
    assert p.returncode == 2 and b"/nonexistent/in" in p.stderr


def test_list_languages():
    p = run_raw(["--list-languages"])
    assert p.returncode == 0
    ids = [l.split()[0] for l in p.stdout.decode().splitlines() if l.strip()]
    assert set(LANG_IDS) <= set(ids), ids


@pytest.mark.slow
def test_java_default_limits():
    src = """
public class Main {
    public static void main(String[] a) throws Exception {
        StringBuilder sb = new StringBuilder();
        java.util.Scanner in = new java.util.Scanner(System.in);
        long s = 0;
        while (in.hasNextLong()) s += in.nextLong();
        Thread[] t = new Thread[4];
        for (int i = 0; i < 4; i++) { t[i] = new Thread(() -> {}); t[i].start(); }
        for (Thread x : t) x.join();
        int[] big = new int[16 << 20];
        big[big.length - 1] = 7;
        System.out.println("sum " + s + " " + big[big.length - 1]);
    }
}
"""
    rc, d = run("java", src, stdin="1 2 3 4\n5\n")
    assert d["status"] == "ACCEPTED", describe(d)
    assert d["stdout"] == "sum 15 7\n"


def test_invalid_utf8_and_nul_give_valid_json():
    src = r"""
#include <stdio.h>
int main(void) {
    static const char junk[] = "a\xff\xfe b\x00c \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 end\n";
    fwrite(junk, 1, sizeof junk - 1, stdout);
    fwrite(junk, 1, sizeof junk - 1, stderr);
    return 0;
}
"""
    rc, d = run("c", src)  # run() fails the test on invalid JSON
    assert d["status"] == "ACCEPTED", describe(d)
    for stream in ("stdout", "stderr"):
        s = d[stream]
        assert s.startswith("a") and s.endswith(" end\n"), repr(s)
        json.dumps(s)  # round-trips


def test_thread_bomb_reaches_a_verdict():
    src = r"""
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void *sleeper(void *a) { (void)a; pause(); return NULL; }
int main(void) {
    int n = 0, r;
    pthread_t t;
    while ((r = pthread_create(&t, NULL, sleeper, NULL)) == 0 && n < 10000)
        n++;
    printf("created %d, then: %s\n", n, strerror(r));
    return 0;
}
"""
    rc, d = run("c", src, args=["--pids", "8"], timeout=30)
    assert d["status"] == "ACCEPTED", describe(d)
    m = re.match(r"created (\d+), then: ", d["stdout"])
    assert m and int(m.group(1)) < 8, d["stdout"]
    assert d["wall_time"] < 5
