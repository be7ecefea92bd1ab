"""Smoke test for demos/websocket: the chat server in a subprocess, two clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

from tornado.httpclient import AsyncHTTPClient
from tornado.testing import AsyncTestCase, gen_test
from tornado.websocket import websocket_connect

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_DIR = os.path.join(REPO_ROOT, "demos", "websocket")


@unittest.skipUnless(os.path.isdir(DEMO_DIR), "the demos are not part of this install")
class WebSocketChatDemoTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = subprocess.Popen(
            [sys.executable, os.path.join(DEMO_DIR, "chatdemo.py"), "--port=0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=REPO_ROOT),
        )
        self.addCleanup(self.stop_server)
        assert self.server.stdout is not None
        # The server prints its port once it is listening.
        banner = self.server.stdout.readline()
        self.assertRegex(banner, r"^listening on \d+$", self.server_stderr())
        self.base = f"127.0.0.1:{int(banner.split()[-1])}"

    def stop_server(self) -> None:
        if self.server.poll() is None:
            self.server.kill()
        self.server.communicate(timeout=10)

    def server_stderr(self) -> str:
        if self.server.poll() is None:
            return "(server still running)"
        assert self.server.stderr is not None
        return self.server.stderr.read()

    @gen_test(timeout=20)
    async def test_message_reaches_the_other_client(self) -> None:
        alice = await websocket_connect(f"ws://{self.base}/chatsocket")
        bob = await websocket_connect(f"ws://{self.base}/chatsocket")
        try:
            alice.write_message(json.dumps({"body": "hi <bob>"}))
            for client in (bob, alice):
                received = await client.read_message()
                assert isinstance(received, str), received
                message = json.loads(received)
                self.assertEqual(message["body"], "hi <bob>")
                self.assertIn("hi &lt;bob&gt;", message["html"])
        finally:
            alice.close()
            bob.close()
        # A newcomer's page shows the history.
        client = AsyncHTTPClient()
        page = await client.fetch(f"http://{self.base}/")
        self.assertIn(b"hi &lt;bob&gt;", page.body)
        self.assertIn(b"/static/chat.js?v=", page.body)
        script = await client.fetch(f"http://{self.base}/static/chat.js")
        self.assertIn(b"new WebSocket(", script.body)


if __name__ == "__main__":
    unittest.main()
