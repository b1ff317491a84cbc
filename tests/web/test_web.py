# SPDX-License-Identifier: Apache-2.0
"""The browser editor in Chromium against the real stack: runs editor.test.mjs (node's test runner,
playwright-core driving /usr/bin/chromium headless) with SENTINEL_URL pointing at the stack."""
import os
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent


def test_editor_in_chromium(stack):
    env = dict(os.environ, SENTINEL_URL=stack.url)
    r = subprocess.run(["node", "--test", "--test-reporter=spec", str(HERE / "editor.test.mjs")],
                       env=env, timeout=900)
    assert r.returncode == 0, "the browser tests failed (their report is above)"
