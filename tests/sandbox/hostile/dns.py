# Attack: resolve a public name (DNS egress, data exfiltration through queries)
# Source: udge dns; DOMjudge test-network
# Expect: ACCEPTED with "BLOCKED dns"
import socket

try:
    info = socket.getaddrinfo("example.com", 80)
    print("ESCAPED resolved", info[0][4])
except OSError as e:
    print("BLOCKED dns", type(e).__name__, e)
