# Attack: run the host's setuid-root helpers from inside (mount, su, newgrp)
# Source: catalogue "setuid binaries (nosuid)"
# Expect: ACCEPTED (or SECURITY_VIOLATION if a helper reaches mount(2)); never root
for cmd in "su -c id root" "newgrp root" "mount -t tmpfs none /tmp"; do  # mount last: it may be killed
        out=$(timeout 2 $cmd </dev/null 2>&1)
        echo "TRIED $cmd: $out"
done
if [ "$(id -u)" = 0 ]; then echo "ESCAPED root"; else echo "BLOCKED still uid $(id -u)"; fi
