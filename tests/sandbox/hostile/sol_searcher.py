# Attack: search the whole visible file system for secrets (expected answers, the host canary)
# Source: udge sol-searcher; udge junk
# Expect: ACCEPTED with "SCANNED" and no file holding the canary
import os

hits, scanned = [], 0
needle_canary = b"SENTINEL-" + b"CANARY"  # built at run time: this file must not match itself
needle_env = b"SENTINEL-" + b"ENV"
for top in ("/", ):
    for root, dirs, files in os.walk(top):
        if root == "/":
            dirs[:] = [d for d in dirs if d not in ("proc", "usr", "sys")]
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    data = f.read(1 << 16)
            except OSError:
                continue
            scanned += 1
            if needle_canary in data or needle_env in data:
                hits.append(path)
for h in hits:
    print("ESCAPED found", h)
print("SCANNED", scanned, "files in", sorted(os.listdir("/")))
