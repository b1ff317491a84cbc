# Attack: block in select() with no fds, using no CPU
# Source: CMS timeout-select
# Expect: TIME_LIMIT_EXCEEDED by wall time
import select

select.select([], [], [], 100)
print("ESCAPED woke up")
