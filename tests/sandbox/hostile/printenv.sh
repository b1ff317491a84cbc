# Attack: printenv from a shell
# Source: Judge0 issue #564
# Expect: ACCEPTED; the clean environment (plus what bash itself adds)
printenv | sed 's/^/ENV /'
