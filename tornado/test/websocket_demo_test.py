"""Smoke test for demos/websocket: the chat server in a subprocess, two clients."""

from __future__ import annotations

import json
import unittest
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.test.util import DemoServer, env_with_package, skip_without_demos
from tornado.testing import AsyncTestCase, gen_test
from tornado.websocket import WebSocketClientConnection, websocket_connect


@skip_without_demos
class WebSocketChatDemoTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        # The chat demo finds the package through PYTHONPATH.
        server = DemoServer("websocket/chatdemo.py", env=env_with_package())
        self.addCleanup(server.stop_and_check)
        self.base = f"127.0.0.1:{server.port}"

    async def sign_in(self, name: str) -> str:
        """Sign in through the XSRF-protected form; the Cookie header to send."""
        client = AsyncHTTPClient()
        form = await client.fetch(f"http://{self.base}/auth/login")
        cookies = SimpleCookie(form.headers["Set-Cookie"])
        xsrf = cookies["_xsrf"].value
        response = await client.fetch(
            f"http://{self.base}/auth/login",
            method="POST",
            body=urlencode({"_xsrf": xsrf, "name": name}),
            headers={"Cookie": f"_xsrf={xsrf}"},
            follow_redirects=False,
            raise_error=False,
        )
        self.assertEqual(response.code, 302, response.body)
        signed = SimpleCookie(response.headers["Set-Cookie"])["chat_name"].value
        return f"_xsrf={xsrf}; chat_name={signed}"

    async def connect(self, cookie: str) -> WebSocketClientConnection:
        return await websocket_connect(
            HTTPRequest(f"ws://{self.base}/chatsocket", headers={"Cookie": cookie})
        )

    @gen_test(timeout=20)
    async def test_message_reaches_the_other_client(self) -> None:
        alice = await self.connect(await self.sign_in("alice"))
        bob_cookie = await self.sign_in("bob")
        bob = await self.connect(bob_cookie)
        try:
            alice.write_message(json.dumps({"body": "hi <bob>"}))
            for client in (bob, alice):
                received = await client.read_message()
                assert isinstance(received, str), received
                message = json.loads(received)
                self.assertEqual(message["body"], "hi <bob>")
                self.assertEqual(message["author"], "alice")
                self.assertIn("<b>alice</b>: hi &lt;bob&gt;", message["html"])
        finally:
            alice.close()
            bob.close()
        # A newcomer's page shows the history.
        client = AsyncHTTPClient()
        page = await client.fetch(
            f"http://{self.base}/", headers={"Cookie": bob_cookie}
        )
        self.assertIn(b"hi &lt;bob&gt;", page.body)
        self.assertIn(b"/static/chat.js?v=", page.body)
        script = await client.fetch(f"http://{self.base}/static/chat.js")
        self.assertIn(b"new WebSocket(", script.body)

    @gen_test(timeout=20)
    async def test_signed_out_visitors_are_turned_away(self) -> None:
        client = AsyncHTTPClient()
        page = await client.fetch(
            f"http://{self.base}/", follow_redirects=False, raise_error=False
        )
        self.assertEqual(page.code, 302)
        self.assertEqual(page.headers["Location"], "/auth/login?next=%2F")
        with self.assertRaises(HTTPClientError) as refused:
            await websocket_connect(f"ws://{self.base}/chatsocket")
        self.assertEqual(refused.exception.code, 302)

    @gen_test(timeout=20)
    async def test_sign_in_needs_the_xsrf_token(self) -> None:
        response = await AsyncHTTPClient().fetch(
            f"http://{self.base}/auth/login",
            method="POST",
            body=urlencode({"name": "mallory"}),
            raise_error=False,
        )
        self.assertEqual(response.code, 403)


if __name__ == "__main__":
    unittest.main()
