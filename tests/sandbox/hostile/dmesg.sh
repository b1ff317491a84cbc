# Attack: run dmesg (tries /dev/kmsg, then syslog(2))
# Source: catalogue "dmesg"; DOMjudge test-fill-syslog
# Expect: SECURITY_VIOLATION (syslog) or RUNTIME_ERROR/ACCEPTED with no kernel log
if out=$(dmesg 2>&1 | head -5) && [ -n "$out" ] && ! echo "$out" | grep -qi 'operation not permitted\|not found\|denied\|failed'; then
        echo "ESCAPED dmesg: $out"
else
        echo "BLOCKED dmesg: $out"
fi
