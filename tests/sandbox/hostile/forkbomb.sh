# Attack: the classic bash fork bomb :(){ :|:& };:
# Source: nanosandbox-style shell bomb (catalogue: fork bomb)
# Expect: ACCEPTED or TIME_LIMIT_EXCEEDED; a verdict, and no process left on the host
:(){ :|:& };:
sleep 2
echo DONE
