"""``HTTPServer(http2=True)``: HTTP/2 and HTTP/1.1 on one port, from real clients.

Over TLS the ALPN protocol decides (the server offers ``h2`` and
``http/1.1``); in cleartext a connection opening with the HTTP/2 preface is
served as h2c and any other as HTTP/1.1.
"""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
import sys
import unittest
from typing import Any
from unittest import mock

import httpx

from tornado.httpserver import HTTPServer
from tornado.test.util import TEST_CERT, TEST_KEY
from tornado.testing import AsyncTestCase, bind_unused_port, gen_test
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketHandler, websocket_connect

CURL = shutil.which("curl")


class VersionHandler(RequestHandler):
    def get(self) -> None:
        self.write(f"{self.request.version} {self.request.protocol}")

    def post(self) -> None:
        self.write(self.request.body)


class EchoSocket(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)


def client_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=TEST_CERT)
    context.check_hostname = False  # the certificate names localhost
    return context


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TEST_CERT, TEST_KEY)
    return context


class HTTP2OptionTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        # httpx logs every request at INFO.
        httpx_log = logging.getLogger("httpx")
        level = httpx_log.level
        httpx_log.setLevel(logging.WARNING)
        self.addCleanup(httpx_log.setLevel, level)

    def start(self, tls: bool) -> str:
        sock, port = bind_unused_port()
        app = Application(
            [("/", VersionHandler), ("/ws", EchoSocket)],
            log_function=lambda handler: None,
        )
        self.server = HTTPServer(
            app, http2=True, ssl_options=tls_context() if tls else None
        )
        self.server.add_sockets([sock])
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    def tearDown(self) -> None:
        self.server.stop()
        self.io_loop.run_sync(self.server.close_all_connections)
        super().tearDown()

    @gen_test
    async def test_h2_over_tls_by_alpn(self) -> None:
        url = self.start(tls=True)
        async with httpx.AsyncClient(http2=True, verify=client_context()) as client:
            response = await client.get(url + "/")
            self.assertEqual(response.http_version, "HTTP/2")
            self.assertEqual(response.text, "HTTP/2.0 https")
            posted = await client.post(url + "/", content=b"x" * 100000)
            self.assertEqual(posted.content, b"x" * 100000)

    @gen_test
    async def test_http11_over_tls_on_the_same_port(self) -> None:
        url = self.start(tls=True)
        async with httpx.AsyncClient(verify=client_context()) as client:
            response = await client.get(url + "/")
            self.assertEqual(response.text, "HTTP/1.1 https")

    @gen_test
    async def test_h2c_prior_knowledge(self) -> None:
        url = self.start(tls=False)
        async with httpx.AsyncClient(http1=False, http2=True) as client:
            response = await client.get(url + "/")
            self.assertEqual(response.http_version, "HTTP/2")
            self.assertEqual(response.text, "HTTP/2.0 http")

    @gen_test
    async def test_http11_and_websocket_in_cleartext(self) -> None:
        url = self.start(tls=False)
        async with httpx.AsyncClient() as client:
            self.assertEqual((await client.get(url + "/")).text, "HTTP/1.1 http")
        ws = await websocket_connect(url.replace("http", "ws") + "/ws")
        await ws.write_message("hello")
        self.assertEqual(await ws.read_message(), "hello")
        ws.close()

    @gen_test
    async def test_application_listen_with_http2(self) -> None:
        app = Application([("/", VersionHandler)], log_function=lambda handler: None)
        self.server = app.listen(
            0, address="127.0.0.1", http2=True, ssl_options=tls_context()
        )
        [sock] = self.server._sockets.values()
        url = f"https://127.0.0.1:{sock.getsockname()[1]}/"
        async with httpx.AsyncClient(http2=True, verify=client_context()) as client:
            response = await client.get(url)
        self.assertEqual(response.http_version, "HTTP/2")
        self.assertEqual(response.text, "HTTP/2.0 https")

    @unittest.skipIf(CURL is None, "curl is not installed")
    @gen_test
    async def test_curl_http2_and_prior_knowledge(self) -> None:
        for tls, flag in ((True, "--http2"), (False, "--http2-prior-knowledge")):
            url = self.start(tls=tls)
            output = await self.curl(flag, "-k", url + "/")
            self.assertEqual(output, f"HTTP/2.0 {'https' if tls else 'http'}")
            self.server.stop()
            await self.server.close_all_connections()

    async def curl(self, *args: str) -> str:
        import asyncio

        assert CURL is not None
        process = await asyncio.create_subprocess_exec(
            CURL, "-sS", *args, stdout=subprocess.PIPE
        )
        output, _ = await process.communicate()
        self.assertEqual(process.returncode, 0)
        return output.decode()


class MissingH2Test(unittest.TestCase):
    def test_clear_error_without_h2(self) -> None:
        blocked: dict[str, Any] = {"h2": None}
        with mock.patch.dict(sys.modules, blocked):
            sys.modules.pop("tornado._http2_session", None)  # restored after
            with self.assertRaisesRegex(ImportError, r"tornado\[http2\]"):
                HTTPServer(Application(), http2=True)
