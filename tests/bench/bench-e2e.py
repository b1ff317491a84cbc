#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""sentinel-run end to end against bare runs of the same programs, A/B interleaved.

Usage: bench-e2e.py SENTINEL_RUN [PAIRS]
Prints a Markdown table: median wall time per run of each side and the median of per-pair ratios.
bubblewrap (a peer that execs itself per run) is measured in the same run when installed."""
import os
import shutil
import statistics
import sys
import tempfile
import time


def timed(argv, stdout=None):
    """Wall time of one run of argv (posix_spawn + waitpid: the least overhead Python offers)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    t1 = time.perf_counter()
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv}: exit status {status}")
    return (t1 - t0) * 1000


def pairs(a, b, n):
    for _ in range(3):  # warm-up: page cache, first-run costs
        timed(a), timed(b)
    ta, tb, ratios = [], [], []
    for _ in range(n):
        x, y = timed(a), timed(b)
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def main():
    sentinel = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    work = tempfile.mkdtemp(prefix="sentinel-bench-")
    hello = os.path.join(work, "hello.py")
    with open(hello, "w") as f:
        f.write('print("hello, world")\n')
    exit0 = os.path.join(work, "exit0.sh")
    with open(exit0, "w") as f:
        f.write("exit 0\n")

    rows = [
        ("Python hello world", [sentinel, "--lang", "python", hello], ["/usr/bin/python3", hello], 1.25),
        ("bash `exit 0`", [sentinel, "--lang", "bash", exit0], ["/usr/bin/bash", exit0], 2.0),
    ]
    bwrap = shutil.which("bwrap")
    if bwrap:
        bw = [bwrap, "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64",
              "/lib64", "--symlink", "usr/bin", "/bin", "--ro-bind", work, work, "--proc", "/proc", "--dev", "/dev",
              "--unshare-all", "--die-with-parent", "--new-session", "--"]
        rows.append(("peer: bubblewrap, Python hello world", bw + ["/usr/bin/python3", hello],
                     ["/usr/bin/python3", hello], None))
        rows.append(("peer: bubblewrap, bash `exit 0`", bw + ["/usr/bin/bash", exit0], ["/usr/bin/bash", exit0], None))

    print(f"| run | sandboxed median (ms) | bare median (ms) | ratio (median of {n} pairs) | target |")
    print("|---|---|---|---|---|")
    status = 0
    for name, a, b, target in rows:
        ma, mb, ratio = pairs(a, b, n)
        verdict = "" if target is None else (f"≤ {target}× {'met' if ratio <= target else 'MISSED'}")
        if target is not None and ratio > target:
            status = 1
        print(f"| {name} | {ma:.2f} | {mb:.2f} | {ratio:.2f} | {verdict} |", flush=True)
    shutil.rmtree(work)
    return status


if __name__ == "__main__":
    sys.exit(main())
