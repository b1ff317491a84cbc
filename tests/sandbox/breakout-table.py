#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Prints the hostile-program table (program | attack | source | expected | result) as Markdown,
# after running tests/sandbox/test_breakout.py (as root; SENTINEL_BUILD as for the suite).
# Usage: tests/sandbox/breakout-table.py [--no-run] [pytest args...]
#   --no-run: no result column, nothing run (the table in tests/sandbox/README.md).
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_breakout as tb  # noqa: E402  (the table lives there)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def run_suite(extra):
    """Runs the breakout tests; returns {file: (outcome, observed status, first failure line)}."""
    with tempfile.TemporaryDirectory(prefix="sentinel-table-") as tmp:
        xml = os.path.join(tmp, "junit.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
               "-o", "junit_family=xunit1", os.path.join(HERE, "test_breakout.py"), "-k", "test_hostile", *extra]
        subprocess.run(cmd, cwd=os.path.dirname(os.path.dirname(HERE)), stdout=sys.stderr, stderr=sys.stderr)
        results = {}
        if not os.path.exists(xml):
            return results
        for tc in ET.parse(xml).getroot().iter("testcase"):
            name = tc.get("name", "")
            if "[" not in name:
                continue
            file = name[name.index("[") + 1:-1]
            props = {p.get("name"): p.get("value") for p in tc.iter("property")}
            bad = tc.find("failure") if tc.find("failure") is not None else tc.find("error")
            skipped = tc.find("skipped") is not None
            outcome = "skipped" if skipped else ("FAIL" if bad is not None else "pass")
            detail = ""
            if bad is not None:
                detail = (bad.get("message") or "").strip().splitlines()[0][:160] if bad.get("message") else ""
            results[file] = (outcome, props.get("status", ""), detail)
        return results


def main(argv):
    no_run = "--no-run" in argv
    extra = [a for a in argv if a != "--no-run"]
    results = {} if no_run else run_suite(extra)
    if no_run:
        print("| Program | Attack | Source | Expected |")
        print("|---|---|---|---|")
    else:
        print("| Program | Attack | Source | Expected | Result |")
        print("|---|---|---|---|---|")
    for c in tb.CASES:
        hdr = tb.attack_and_source(c.file)
        expected = " or ".join(sorted(c.verdicts))
        if c.message:
            expected += f" ({c.message})"
        if c.expect:
            expected += "; prints " + ", ".join(f"`{e}`" for e in c.expect)
        if no_run:
            result = ""
        elif c.file in results:
            outcome, status, detail = results[c.file]
            result = f"{outcome} ({status})" if status else outcome
            if detail:
                result += ": " + detail
        else:
            result = "not run"
        row = f"| `{c.file}` | {cell(hdr.get('Attack', ''))} | {cell(hdr.get('Source', ''))} | {cell(expected)} |"
        print(row if no_run else f"{row} {cell(result)} |")
    if results:
        n_pass = sum(1 for r in results.values() if r[0] == "pass")
        print(f"\n{n_pass} of {len(tb.CASES)} hostile programs behave as expected.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
