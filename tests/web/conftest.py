# SPDX-License-Identifier: Apache-2.0
"""The browser suite's stack: the integration suite's (PostgreSQL, RabbitMQ, Redis on free ports,
sentinel-api and sentinel-worker from SENTINEL_BUILD), with sentinel-api serving web/dist."""
import importlib.util
import os
import pathlib
import subprocess

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
WEB = TOP / "web"
DIST = pathlib.Path(os.environ.get("SENTINEL_WEB_DIST", WEB / "dist")).resolve()

_spec = importlib.util.spec_from_file_location("integration_stack", TOP / "tests" / "integration" / "conftest.py")
integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration)


class WebStack(integration.Stack):
    def env(self):
        env = super().env()
        env["SENTINEL_WEB_ROOT"] = str(DIST)
        return env


def build_page():
    """npm ci when node_modules is missing, then vite build unless SENTINEL_WEB_DIST names a build."""
    if "SENTINEL_WEB_DIST" in os.environ:
        return
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, timeout=900)
    subprocess.run(["npm", "run", "--silent", "build"], cwd=WEB, check=True, timeout=900,
                   stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def stack():
    integration.check_binaries()
    if not pathlib.Path("/usr/bin/chromium").exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium")
    build_page()
    yield from integration.running(WebStack())
