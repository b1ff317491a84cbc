# Attack: os.fork() bomb from Python, each child forks again
# Source: catalogue fork bomb (QingdaoU seccomp/fork, udge forkbomb) in Python
# Expect: ACCEPTED with "BLOCKED fork" (the bomb gives up), or TIME_LIMIT_EXCEEDED
import os
import sys
import time

blocked = False
for i in range(300):
    try:
        pid = os.fork()
    except OSError as e:
        if not blocked:
            print(f"BLOCKED fork errno={e.errno}", flush=True)
            blocked = True
        time.sleep(0.001)
        continue
    if pid == 0:
        time.sleep(0.5)
        os._exit(0)
if not blocked:
    print("ESCAPED 300 forks")
sys.exit(0)
