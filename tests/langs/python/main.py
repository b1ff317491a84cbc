# SPDX-License-Identifier: Apache-2.0
# Sentinel language test: the Python runtime starts, imports its standard library and prints OK.
import collections
import json
import math
import re

counts = collections.Counter("sentinel")
data = json.loads(json.dumps({"n": counts["n"], "root": math.isqrt(144)}))
assert data == {"n": 2, "root": 12}
assert re.fullmatch(r"[a-z]+", "sentinel")
print("OK")
