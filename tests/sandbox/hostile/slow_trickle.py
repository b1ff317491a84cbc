# Attack: slow trickle output, one line every 100 ms for 3 s
# Source: DOMjudge test-slow-output
# Expect: ACCEPTED with all 30 lines kept in order
import sys
import time

for i in range(30):
    print(f"line {i}", flush=True)
    time.sleep(0.1)
