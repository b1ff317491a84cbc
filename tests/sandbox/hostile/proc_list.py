# Attack: list /proc for host processes and read their command lines
# Source: catalogue "/proc/*/environ|cmdline of other processes (hidepid / pid ns)"
# Expect: ACCEPTED; only the box's few processes (small pids) are visible
import os

pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("PIDS", len(pids), "MAX", max(pids))
for p in pids:
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError as e:
        cmd = f"<errno {e.errno}>"
    print("PROC", p, cmd)
