# Attack: overwrite (and create files next to) a world-writable file on the host by its path
# Source: udge junk (writes into other boxes' dirs)
# Expect: ACCEPTED with "BLOCKED" twice
if echo pwned > '@CANARY@' 2>/dev/null; then echo "ESCAPED wrote canary"; else echo "BLOCKED write canary"; fi
if touch '@CANARY_DIR@/planted' 2>/dev/null; then echo "ESCAPED planted"; else echo "BLOCKED plant"; fi
