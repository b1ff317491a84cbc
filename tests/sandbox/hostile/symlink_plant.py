# Attack: leave symlinks in /box where a careless host would later read, write or chown:
# main.py, out, stdin, main -> host files (/etc/shadow, the canary, /etc/passwd)
# Source: Judge0 CVE-2024-28185 / CVE-2024-28189; go-judge #176; Compiler Explorer #6026
# Expect: ACCEPTED; the host's files are untouched and nothing is read through the links
import os

targets = {
    "/box/main.py": "@CANARY@",
    "/box/out": "/etc/passwd",
    "/box/stdin": "/etc/shadow",
    "/box/main": "@CANARY@",
    "/box/compile.log": "/etc/shadow",
    "/box/up": "/proc/1/root",
    "/tmp/link": "@CANARY_DIR@",
}
for link, target in targets.items():
    try:
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
        print("PLANTED", link)
    except OSError as e:
        print("BLOCKED", link, e.errno)
for link in ("/box/main.py", "/box/up"):
    try:
        with open(link if link != "/box/up" else "/box/up/etc/shadow") as f:
            print("ESCAPED read through", link, f.read(80))
    except OSError as e:
        print("BLOCKED read through", link, e.errno)
