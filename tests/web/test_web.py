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


def test_ws_origin_of_the_page(stack):
    """The page (served on the API's port) may open the WebSocket; other origins may not."""
    import json
    import requests
    import websocket

    sid = requests.post(stack.url + "/api/v1/submissions?wait=true", timeout=60,
                        json={"language": "bash", "source_code": "echo hi"}).json()["id"]
    url = f"{stack.ws_url}/ws/submissions/{sid}"
    api_port, ws_port = stack.ports["api"], stack.ports["ws"]
    for origin in (f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ws_port}"):
        ws = websocket.create_connection(url, timeout=10, origin=origin)
        msgs = []
        try:
            while (m := ws.recv()):
                msgs.append(json.loads(m))
        except websocket.WebSocketConnectionClosedException:
            pass
        ws.close()
        assert msgs and msgs[-1]["type"] == "result", (origin, msgs)
    for origin in (f"http://127.0.0.1:{api_port + 1 if api_port + 1 != ws_port else api_port + 2}",
                   f"http://localhost.evil.example:{api_port}", f"http://127.0.0.1.evil:{api_port}", "null"):
        try:
            websocket.create_connection(url, timeout=10, origin=origin).recv()
        except websocket.WebSocketBadStatusException as e:
            assert e.status_code == 403, (origin, e)
        else:
            raise AssertionError(f"{origin} was let in")
