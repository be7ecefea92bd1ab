"""HTTP/2 through `tornado._http2`: real clients against an `.Application`.

* `TLSApplicationTest` and `CleartextApplicationTest`: the same handlers
  driven by ``httpx`` over h2 with ALPN and over h2c with prior knowledge:
  requests and bodies, streamed uploads, concurrent streams, large
  responses, redirects, cookies, error pages, static files with ranges,
  gzip, XSRF and cross-origin protection.
* `FlowControlTest`: both directions of flow control, frame by frame.
* `StreamLifecycleTest`: client resets, body limits and timeouts,
  ``100-continue``, HEAD, ``decompress_request``.
* `ConnectionTest`: SETTINGS, PING, idle timeout, graceful close, protocol
  errors, a client that never opens its window.
* `XHeadersTest`: proxy headers per stream.
* `CommandLineClientTest`: ``curl --http2``, ``--http2-prior-knowledge``
  and ``nghttp`` (Debian's ``curl`` and ``nghttp2-client``).
* `MissingH2Test`: the error when ``h2`` is not installed.

The hostile clients are in ``http2_hostile_test``; the pure helpers in
``http2wire_test``.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import os
import sys
import unittest
import unittest.mock
from typing import TYPE_CHECKING, Any

from tornado import gen
from tornado._http2 import MISSING_H2_MESSAGE, HTTP2ServerProtocol
from tornado.http1connection import HTTP1ConnectionParameters
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    ResponseStartLine,
)
from tornado.iostream import StreamClosedError
from tornado.log import app_log, gen_log
from tornado.test.asgi_util import QuietAccessLog, RecordCounter
from tornado.test.http2_util import (
    TEST_TIMEOUT,
    FrameClient,
    H2Server,
    client_tls_context,
    require_command,
    run_command,
)
from tornado.test.util import TEST_DIR
from tornado.testing import AsyncTestCase, ExpectLog, gen_test
from tornado.web import Application, RequestHandler, stream_request_body
from tornado.websocket import WebSocketHandler

try:
    import h2.errors
    import h2.events
    import h2.settings
    import httpx
    import hyperframe.frame
except ImportError as e:  # development dependencies: fail loudly, never skip
    raise ImportError(
        f'the HTTP/2 tests need httpx and h2 (pip install "httpx[http2]"): {e}'
    ) from e

COOKIE_SECRET = "http2-test-secret"


class Gates:
    """Events a test and its handlers share."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.handler_waiting = asyncio.Event()
        self.connection_closed = asyncio.Event()
        self.started = 0
        self.flushed = 0
        self.received: list[int] = []


class GatedHandler(RequestHandler):
    def initialize(self, gates: Gates) -> None:
        self.gates = gates


class InfoHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.info())

    def post(self) -> None:
        info = self.info()
        info["body_size"] = len(self.request.body)
        info["arguments"] = {
            name: self.get_body_arguments(name) for name in self.request.body_arguments
        }
        self.write(info)

    def info(self) -> dict[str, Any]:
        request = self.request
        return {
            "version": request.version,
            "method": request.method,
            "uri": request.uri,
            "host": request.host,
            "remote_ip": request.remote_ip,
            "protocol": request.protocol,
            "scheme": getattr(request.connection, "scheme", None),
            "query": self.get_query_argument("q", None),
            "x_test": request.headers.get_list("X-Test"),
            "cookie": request.headers.get("Cookie"),
        }


class EchoHandler(RequestHandler):
    def post(self) -> None:
        self.write(self.request.body)


@stream_request_body
class UploadHandler(RequestHandler):
    def prepare(self) -> None:
        self.digest = hashlib.sha256()
        self.sizes: list[int] = []

    async def data_received(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.sizes.append(len(chunk))
        await gen.moment  # a consumer that takes its time

    def put(self) -> None:
        self.write(
            {
                "size": sum(self.sizes),
                "sha256": self.digest.hexdigest(),
                "largest_chunk": max(self.sizes, default=0),
            }
        )


class BigHandler(GatedHandler):
    async def get(self) -> None:
        size = int(self.get_argument("size"))
        chunk = int(self.get_argument("chunk", "65536"))
        pattern = bytes(range(256)) * (chunk // 256 + 1)
        sent = 0
        while sent < size:
            piece = pattern[: min(chunk, size - sent)]
            self.write(piece)
            try:
                await self.flush()
            except StreamClosedError:
                return  # the client left
            sent += len(piece)
            self.gates.flushed += 1


class RedirectHandler(RequestHandler):
    def get(self) -> None:
        self.redirect("/info?q=redirected")


class SetCookieHandler(RequestHandler):
    def get(self) -> None:
        self.set_cookie("plain", "one")
        self.set_cookie("other", "two")
        self.set_signed_cookie("signed", "three")
        self.write("set")


class GetCookieHandler(RequestHandler):
    def get(self) -> None:
        signed = self.get_signed_cookie("signed")
        self.write(
            {
                "plain": self.get_cookie("plain"),
                "other": self.get_cookie("other"),
                "signed": signed.decode() if signed else None,
            }
        )


class FailHandler(RequestHandler):
    def get(self) -> None:
        raise Exception("boom")


class TextHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write("compressible text " * 500)


class FormHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.xsrf_token)

    def post(self) -> None:
        self.write("accepted")


class WaitHandler(GatedHandler):
    async def get(self) -> None:
        self.gates.started += 1
        self.gates.handler_waiting.set()
        await self.gates.release.wait()
        self.write("released")

    def on_connection_close(self) -> None:
        self.gates.connection_closed.set()


@stream_request_body
class SlowUploadHandler(GatedHandler):
    """Takes the first chunk, then waits for the test before taking more."""

    async def data_received(self, chunk: bytes) -> None:
        self.gates.received.append(len(chunk))
        self.gates.handler_waiting.set()
        await self.gates.release.wait()

    def put(self) -> None:
        self.write(str(sum(self.gates.received)))

    def on_connection_close(self) -> None:
        self.gates.connection_closed.set()


class LyingLengthHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Length", self.get_argument("declared"))
        self.write(b"x" * int(self.get_argument("actual")))


@stream_request_body
class RaisedLimitHandler(RequestHandler):
    def prepare(self) -> None:
        assert self.request.connection is not None
        self.request.connection.set_max_body_size(1_000_000)  # type: ignore[attr-defined]
        self.size = 0

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)

    def put(self) -> None:
        self.write(str(self.size))


class EchoWebSocket(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


def make_app(gates: Gates, **settings: Any) -> Application:
    kwargs = dict(gates=gates)
    return Application(
        [
            ("/info", InfoHandler),
            ("/echo", EchoHandler),
            ("/upload", UploadHandler),
            ("/big", BigHandler, kwargs),
            ("/redirect", RedirectHandler),
            ("/cookie/set", SetCookieHandler),
            ("/cookie/get", GetCookieHandler),
            ("/fail", FailHandler),
            ("/text", TextHandler),
            ("/form", FormHandler),
            ("/wait", WaitHandler, kwargs),
            ("/slow_upload", SlowUploadHandler, kwargs),
            ("/ws", EchoWebSocket),
            ("/lying", LyingLengthHandler),
            ("/raised_limit", RaisedLimitHandler),
        ],
        static_path=os.path.join(TEST_DIR, "static"),
        cookie_secret=COOKIE_SECRET,
        **settings,
    )


class H2TestCase(QuietAccessLog, AsyncTestCase):
    """Serves `make_app` over HTTP/2 for each test (see `H2Server`)."""

    tls = False

    def get_app_settings(self) -> dict[str, Any]:
        return {}

    def get_server_options(self) -> dict[str, Any]:
        return {}

    def setUp(self) -> None:
        super().setUp()
        self.gates = Gates()
        self.frame_clients: list[FrameClient] = []
        self.server: H2Server = self.io_loop.run_sync(self._start_server)

    async def _start_server(self) -> H2Server:
        app = make_app(self.gates, **self.get_app_settings())
        return H2Server(app, self.tls, **self.get_server_options())

    def tearDown(self) -> None:
        self.io_loop.run_sync(self._close_all, timeout=TEST_TIMEOUT)
        super().tearDown()

    async def _close_all(self) -> None:
        for client in self.frame_clients:
            await client.close()
        await self.server.close()

    async def connect(self, preface: bool = True) -> FrameClient:
        """A `FrameClient` connection to the server, closed after the test."""
        client = await FrameClient.connect(self.server, preface)
        self.frame_clients.append(client)
        return client

    def url(self, path: str) -> str:
        return self.server.url(path)

    async def assert_serves(self, client: FrameClient, stream_id: int) -> None:
        """The connection still serves a request, on ``stream_id``."""
        client.h2.send_headers(stream_id, request_headers("/info"), end_stream=True)
        await client.flush()
        events = await client.events_until(is_stream_end(stream_id))
        self.assertEqual(response_of(events, stream_id)[0][b":status"], b"200")

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client speaking only HTTP/2 to the server."""
        kwargs.setdefault("timeout", TEST_TIMEOUT)
        return httpx.AsyncClient(
            http1=False, http2=True, verify=client_tls_context(), **kwargs
        )

    async def get_json(self, client: httpx.AsyncClient, path: str) -> Any:
        response = await client.get(self.url(path))
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.http_version, "HTTP/2")
        return response.json()


if TYPE_CHECKING:
    _Base = H2TestCase
else:
    _Base = object  # a mixin: no test runner is to collect it alone


class ApplicationTests(_Base):
    """What an application sees and sends over HTTP/2 (run over TLS and h2c)."""

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_get(self) -> None:
        async with self.client() as client:
            response = await client.get(
                self.url("/info?q=%E2%82%AC"),
                headers=[("X-Test", "a"), ("X-Test", "b")],
            )
        self.assertEqual(response.http_version, "HTTP/2")
        info = response.json()
        self.assertEqual(info["version"], "HTTP/2.0")
        self.assertEqual(info["method"], "GET")
        self.assertEqual(info["uri"], "/info?q=%E2%82%AC")
        self.assertEqual(info["query"], "\u20ac")
        self.assertEqual(info["host"], f"127.0.0.1:{self.server.port}")
        self.assertEqual(info["remote_ip"], "127.0.0.1")
        self.assertEqual(info["protocol"], self.server.scheme)
        self.assertEqual(info["scheme"], self.server.scheme)
        self.assertEqual(info["x_test"], ["a", "b"])
        self.assertEqual(
            response.headers["content-type"], "application/json; charset=UTF-8"
        )
        self.assertIn("server", response.headers)
        self.assertIn("date", response.headers)
        self.assertNotIn("connection", response.headers)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_post_form_and_large_body(self) -> None:
        async with self.client() as client:
            response = await client.post(
                self.url("/info"), data={"a": "1", "b": "\u20ac"}
            )
            self.assertEqual(
                response.json()["arguments"], {"a": ["1"], "b": ["\u20ac"]}
            )
            # Beyond the stream window (64 KiB) and the connection window.
            body = os.urandom(3 * 1024 * 1024)
            response = await client.post(self.url("/echo"), content=body)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, body)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_streamed_upload(self) -> None:
        body = os.urandom(1024 * 1024 + 7)

        async def pieces() -> Any:
            for start in range(0, len(body), 10000):
                yield body[start : start + 10000]

        async with self.client() as client:
            response = await client.put(self.url("/upload"), content=pieces())
        result = response.json()
        self.assertEqual(result["size"], len(body))
        self.assertEqual(result["sha256"], hashlib.sha256(body).hexdigest())
        self.assertLessEqual(result["largest_chunk"], 64 * 1024)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_many_concurrent_streams_on_one_connection(self) -> None:
        async with self.client() as client:
            responses = await asyncio.gather(
                *(client.get(self.url(f"/info?q={i}")) for i in range(80))
            )
        self.assertEqual(
            [r.json()["query"] for r in responses], [str(i) for i in range(80)]
        )
        self.assertEqual(len(self.server.protocols), 1)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_large_response(self) -> None:
        size = 5 * 1024 * 1024 + 3
        async with self.client() as client:
            response = await client.get(self.url(f"/big?size={size}&chunk=100000"))
        self.assertEqual(len(response.content), size)
        self.assertEqual(response.content[:512], bytes(range(256)) * 2)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_redirect(self) -> None:
        async with self.client(follow_redirects=True) as client:
            response = await client.get(self.url("/redirect"))
        self.assertEqual([r.status_code for r in response.history], [302])
        self.assertEqual(response.history[0].headers["location"], "/info?q=redirected")
        self.assertEqual(response.json()["query"], "redirected")

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_cookies(self) -> None:
        async with self.client() as client:
            response = await client.get(self.url("/cookie/set"))
            set_cookies = response.headers.get_list("set-cookie")
            self.assertEqual(len(set_cookies), 3, set_cookies)
            cookies = await self.get_json(client, "/cookie/get")
        self.assertEqual(cookies, {"plain": "one", "other": "two", "signed": "three"})

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_error_pages(self) -> None:
        async with self.client() as client:
            response = await client.get(self.url("/missing"))
            self.assertEqual(response.status_code, 404)
            self.assertIn(b"404: Not Found", response.content)
            with ExpectLog(
                app_log, "Uncaught exception GET /fail", level=logging.ERROR
            ):
                response = await client.get(self.url("/fail"))
            self.assertEqual(response.status_code, 500)
            self.assertIn(b"500: Internal Server Error", response.content)
            # The connection goes on serving.
            self.assertEqual((await self.get_json(client, "/info"))["method"], "GET")

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_static_file_with_range(self) -> None:
        with open(os.path.join(TEST_DIR, "static", "robots.txt"), "rb") as f:
            content = f.read()
        async with self.client() as client:
            response = await client.get(
                self.url("/static/robots.txt"), headers={"Range": "bytes=2-9"}
            )
            self.assertEqual(response.status_code, 206)
            self.assertEqual(response.content, content[2:10])
            self.assertEqual(
                response.headers["content-range"], f"bytes 2-9/{len(content)}"
            )
            response = await client.get(self.url("/static/robots.txt"))
            self.assertEqual(response.content, content)
            etag = response.headers["etag"]
            response = await client.get(
                self.url("/static/robots.txt"), headers={"If-None-Match": etag}
            )
            self.assertEqual((response.status_code, response.content), (304, b""))
            response = await client.head(self.url("/static/robots.txt"))
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.content, b"")
            self.assertEqual(response.headers["content-length"], str(len(content)))


class TLSApplicationTest(ApplicationTests, H2TestCase):
    tls = True


class CleartextApplicationTest(ApplicationTests, H2TestCase):
    tls = False


class GzipAndSecurityTest(H2TestCase):
    def get_app_settings(self) -> dict[str, Any]:
        return dict(
            compress_response=True, xsrf_cookies=True, cross_origin_protection=True
        )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_gzip_output(self) -> None:
        async with self.client() as client:
            response = await client.get(
                self.url("/text"), headers={"Accept-Encoding": "gzip"}
            )
        self.assertEqual(response.headers["content-encoding"], "gzip")
        self.assertEqual(response.headers["vary"], "Accept-Encoding")
        self.assertLess(int(response.headers["content-length"]), 1000)
        self.assertEqual(response.text, "compressible text " * 500)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_xsrf(self) -> None:
        async with self.client() as client:
            with ExpectLog(gen_log, "403 POST /form .*_xsrf", level=logging.WARNING):
                response = await client.post(self.url("/form"), data={"a": "1"})
            self.assertEqual(response.status_code, 403)
            token = (await client.get(self.url("/form"))).text
            response = await client.post(self.url("/form"), data={"_xsrf": token})
            self.assertEqual(response.text, "accepted")
            response = await client.post(
                self.url("/form"), content=b"", headers={"X-Xsrftoken": token}
            )
            self.assertEqual(response.text, "accepted")

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_cross_origin_protection(self) -> None:
        async with self.client() as client:
            token = (await client.get(self.url("/form"))).text
            headers = {"X-Xsrftoken": token}
            same = {"Origin": f"http://127.0.0.1:{self.server.port}", **headers}
            response = await client.post(self.url("/form"), content=b"", headers=same)
            self.assertEqual(response.text, "accepted")
            evil = {"Origin": "https://evil.example", **headers}
            message = "403 POST /form .*Origin 'https://evil.example' not allowed"
            with ExpectLog(gen_log, message, level=logging.WARNING):
                response = await client.post(
                    self.url("/form"), content=b"", headers=evil
                )
            self.assertEqual(response.status_code, 403)
            fetch = {"Sec-Fetch-Site": "cross-site", **headers}
            with ExpectLog(
                gen_log, "403 POST /form .*cross-site", level=logging.WARNING
            ):
                response = await client.post(
                    self.url("/form"), content=b"", headers=fetch
                )
            self.assertEqual(response.status_code, 403)


class XHeadersTest(H2TestCase):
    def get_server_options(self) -> dict[str, Any]:
        return dict(xheaders=True)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_each_stream_has_its_own_proxy_headers(self) -> None:
        async with self.client() as client:
            infos = await asyncio.gather(
                *(
                    client.get(
                        self.url("/info"),
                        headers={"X-Real-Ip": f"10.0.0.{i}", "X-Scheme": "https"},
                    )
                    for i in range(1, 20)
                ),
                client.get(self.url("/info")),
            )
        seen = [(r.json()["remote_ip"], r.json()["protocol"]) for r in infos]
        expected = [(f"10.0.0.{i}", "https") for i in range(1, 20)]
        self.assertEqual(seen, expected + [("127.0.0.1", "http")])


def request_headers(
    path: str, method: str = "GET", **extra: str
) -> list[tuple[str, str]]:
    return [
        (":method", method),
        (":path", path),
        (":scheme", "http"),
        (":authority", "127.0.0.1"),
        *((name.replace("_", "-").lower(), value) for name, value in extra.items()),
    ]


def is_stream_end(stream_id: int) -> Any:
    def check(event: h2.events.Event) -> bool:
        return (
            isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset))
            and event.stream_id == stream_id
        )

    return check


def of_type(events: list[h2.events.Event], kind: type[Any]) -> list[Any]:
    return [event for event in events if isinstance(event, kind)]


def response_of(
    events: list[h2.events.Event], stream_id: int
) -> tuple[dict[bytes, bytes], bytes]:
    headers: dict[bytes, bytes] = {}
    body = b""
    for event in events:
        if getattr(event, "stream_id", None) != stream_id:
            continue
        if isinstance(event, h2.events.ResponseReceived):
            headers = dict(event.headers or [])
        elif isinstance(event, h2.events.DataReceived):
            body += event.data or b""
    return headers, body


class FlowControlTest(H2TestCase):
    @gen_test(timeout=TEST_TIMEOUT)
    async def test_flush_waits_for_the_client_window(self) -> None:
        client = await self.connect()
        client.h2.send_headers(
            1, request_headers("/big?size=1048576&chunk=16384"), end_stream=True
        )
        await client.flush()
        # The client never opens its windows (65535 bytes, on the stream and
        # on the connection): the handler's fourth flush cannot complete.
        received = 0
        while received < 65535:
            for event in await client.events_until(
                lambda e: isinstance(e, h2.events.DataReceived)
            ):
                if isinstance(event, h2.events.DataReceived):
                    received += len(event.data or b"")
        await client.ping_round_trip()
        self.assertEqual(received, 65535)
        self.assertEqual(self.gates.flushed, 3)
        client.h2.increment_flow_control_window(2**24)
        client.h2.increment_flow_control_window(2**24, stream_id=1)
        await client.flush()
        events = await client.events_until(is_stream_end(1))
        received += len(response_of(events, 1)[1])
        self.assertEqual(received, 1048576)
        self.assertEqual(self.gates.flushed, 64)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_request_body_acknowledged_as_consumed(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/slow_upload", "PUT"))
        window = client.h2.local_flow_control_window(1)
        for start in range(0, window, 16384):
            client.h2.send_data(1, b"u" * min(16384, window - start))
        await client.flush()
        self.assertEqual(client.h2.local_flow_control_window(1), 0)
        await self.gates.handler_waiting.wait()
        await client.ping_round_trip()
        # The server has read everything; the handler took one chunk and
        # holds it: nothing was handed back to the client.
        self.assertEqual(self.gates.received, [16384])
        self.assertEqual(client.h2.local_flow_control_window(1), 0)
        self.gates.release.set()
        await client.events_until(
            lambda e: isinstance(e, h2.events.WindowUpdated) and e.stream_id == 1
        )
        self.assertGreater(client.h2.local_flow_control_window(1), 0)
        client.h2.end_stream(1)
        await client.flush()
        events = await client.events_until(is_stream_end(1))
        self.assertEqual(response_of(events, 1)[1], str(window).encode())


class StreamLifecycleTest(H2TestCase):
    def get_server_options(self) -> dict[str, Any]:
        return dict(max_body_size=100_000, decompress_request=True)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_reset_stream_closes_the_request(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/wait"), end_stream=True)
        await client.flush()
        await self.gates.handler_waiting.wait()
        client.h2.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
        await client.flush()
        await self.gates.connection_closed.wait()
        # The connection serves on.
        client.h2.send_headers(3, request_headers("/info"), end_stream=True)
        await client.flush()
        events = await client.events_until(is_stream_end(3))
        self.assertEqual(json.loads(response_of(events, 3)[1])["uri"], "/info")

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_reset_during_streamed_upload(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/slow_upload", "PUT"))
        client.h2.send_data(1, b"x" * 1000)
        await client.flush()
        await self.gates.handler_waiting.wait()
        client.h2.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
        await client.flush()
        await self.gates.connection_closed.wait()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_declared_body_too_large(self) -> None:
        client = await self.connect()
        client.h2.send_headers(
            1, request_headers("/echo", "POST", content_length="100001")
        )
        await client.flush()
        message = "Malformed HTTP message from 127.0.0.1: Content-Length too long"
        with ExpectLog(gen_log, message, level=logging.INFO):
            events = await client.events_until(is_stream_end(1))
        self.assertEqual(response_of(events, 1)[0][b":status"], b"400")
        # The server asks the client to stop sending, without error.
        [reset] = of_type(events, h2.events.StreamReset)
        self.assertEqual(reset.error_code, 0)
        await self.assert_serves(client, 3)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_body_too_large(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/echo", "POST"))
        events: list[h2.events.Event] = []
        sent = 0
        message = "Malformed HTTP message from 127.0.0.1: Body too long"
        with ExpectLog(gen_log, message, level=logging.INFO):
            while sent <= 100_000:  # no Content-Length: the server counts
                while client.h2.local_flow_control_window(1) < 16384:
                    events += await client.events_until(
                        lambda e: isinstance(e, h2.events.WindowUpdated)
                    )
                client.h2.send_data(1, b"y" * 16384)
                sent += 16384
                await client.flush()
            events += await client.events_until(is_stream_end(1))
        self.assertEqual(response_of(events, 1)[0][b":status"], b"400")
        await self.assert_serves(client, 3)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_expect_continue(self) -> None:
        client = await self.connect()
        client.h2.send_headers(
            1, request_headers("/echo", "POST", expect="100-continue")
        )
        await client.flush()
        events = await client.events_until(
            lambda e: isinstance(e, h2.events.InformationalResponseReceived)
        )
        [interim] = of_type(events, h2.events.InformationalResponseReceived)
        self.assertEqual(dict(interim.headers)[b":status"], b"100")
        client.h2.send_data(1, b"the body", end_stream=True)
        await client.flush()
        events = await client.events_until(is_stream_end(1))
        self.assertEqual(response_of(events, 1)[1], b"the body")

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_handler_raises_the_body_limit(self) -> None:
        body = b"r" * 500_000
        async with self.client() as client:
            response = await client.put(self.url("/raised_limit"), content=body)
        self.assertEqual(response.text, str(len(body)))

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_content_length_enforced_on_responses(self) -> None:
        client = await self.connect()
        cases = [
            (1, "/lying?declared=10&actual=20", "Tried to write more data"),
            (3, "/lying?declared=10&actual=5", "Tried to write 5 bytes less"),
        ]
        for stream_id, path, message in cases:
            with self.subTest(path=path):
                client.h2.send_headers(
                    stream_id, request_headers(path), end_stream=True
                )
                await client.flush()
                counter = RecordCounter()
                app_log.addFilter(counter)
                try:
                    with (
                        ExpectLog(
                            app_log,
                            "Uncaught exception GET /lying",
                            level=logging.ERROR,
                        ),
                        ExpectLog(
                            gen_log,
                            "Cannot send error response after headers written",
                            level=logging.ERROR,
                        ),
                    ):
                        events = await client.events_until(is_stream_end(stream_id))
                finally:
                    app_log.removeFilter(counter)
                [reset] = of_type(events, h2.events.StreamReset)
                self.assertEqual(reset.error_code, h2.errors.ErrorCodes.INTERNAL_ERROR)
                [record] = counter.records
                assert record.exc_info is not None
                self.assertIsInstance(record.exc_info[1], HTTPOutputError)
                self.assertIn(message, str(record.exc_info[1]))
        await self.assert_serves(client, 5)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_gzipped_request_body(self) -> None:
        body = b"decompress me " * 1000
        async with self.client() as client:
            response = await client.post(
                self.url("/echo"),
                content=gzip.compress(body),
                headers={"Content-Encoding": "gzip"},
            )
            self.assertEqual(response.content, body)
            bomb = gzip.compress(b"\0" * 1_000_000)
            with ExpectLog(
                gen_log,
                "Malformed HTTP message from 127.0.0.1: decompressed body too large",
                level=logging.INFO,
            ):
                response = await client.post(
                    self.url("/echo"),
                    content=bomb,
                    headers={"Content-Encoding": "gzip"},
                )
            self.assertEqual(response.status_code, 400)


def settings_of(frame: Any) -> dict[int, int]:
    return dict(frame.settings)


class ConnectionTest(H2TestCase):
    def get_server_options(self) -> dict[str, Any]:
        return dict(max_header_size=32_000)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_settings_and_ping(self) -> None:
        client = await self.connect()
        settings = await client.frame_of(hyperframe.frame.SettingsFrame)
        codes = h2.settings.SettingCodes
        values = settings_of(settings)
        self.assertEqual(values[codes.MAX_CONCURRENT_STREAMS], 100)
        self.assertEqual(values[codes.MAX_HEADER_LIST_SIZE], 32_000)
        self.assertEqual(values[codes.ENABLE_PUSH], 0)
        update = await client.frame_of(hyperframe.frame.WindowUpdateFrame)
        self.assertEqual(update.stream_id, 0)
        self.assertEqual(update.window_increment, 1024 * 1024 - 65535)
        await client.write(
            hyperframe.frame.PingFrame(0, opaque_data=b"12345678").serialize()
        )
        ack = await client.frame_of(hyperframe.frame.PingFrame)
        self.assertEqual((ack.flags, ack.opaque_data), ({"ACK"}, b"12345678"))

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_graceful_close(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/wait"), end_stream=True)
        await client.flush()
        await self.gates.handler_waiting.wait()
        [protocol] = self.server.protocols
        closed = protocol.close()
        events = await client.events_until(
            lambda e: isinstance(e, h2.events.ConnectionTerminated)
        )
        [goaway] = of_type(events, h2.events.ConnectionTerminated)
        self.assertEqual((goaway.error_code, goaway.last_stream_id), (0, 1))
        self.gates.release.set()
        # The open stream finishes (h2 would no longer take it after the
        # GOAWAY: read the frames raw).
        data = await client.frame_of(
            hyperframe.frame.DataFrame, lambda f: "END_STREAM" in f.flags
        )
        self.assertEqual(data.data, b"released")
        self.assertTrue(await client.closed_by_server())
        await closed

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_streams_after_goaway_are_refused(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/wait"), end_stream=True)
        await client.flush()
        await self.gates.handler_waiting.wait()
        self.server.protocols[0].close()
        await client.frame_of(hyperframe.frame.GoAwayFrame)
        headers = hyperframe.frame.HeadersFrame(3, flags=["END_HEADERS", "END_STREAM"])
        headers.data = client.h2.encoder.encode(request_headers("/info"))
        await client.write(headers.serialize())
        reset = await client.frame_of(hyperframe.frame.RstStreamFrame)
        self.assertEqual((reset.stream_id, reset.error_code), (3, 7))  # REFUSED_STREAM
        self.assertEqual(self.gates.started, 1)
        self.gates.release.set()
        self.assertTrue(await client.closed_by_server())

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_protocol_error_logged_once(self) -> None:
        client = await self.connect()
        counter = RecordCounter()
        gen_log.addFilter(counter)
        try:
            with ExpectLog(
                gen_log,
                "HTTP/2 connection from 127.0.0.1 closed with PROTOCOL_ERROR",
                level=logging.INFO,
            ):
                # DATA on stream 0 is a connection error.
                await client.write(
                    hyperframe.frame.DataFrame(1, data=b"x").serialize()[:5]
                    + b"\x00\x00\x00\x00x"
                )
                goaway = await client.frame_of(hyperframe.frame.GoAwayFrame)
                await client.closed_by_server()
        finally:
            gen_log.removeFilter(counter)
        self.assertEqual(goaway.error_code, 1)
        self.assertEqual(len(counter.records), 1)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_not_http2_at_all(self) -> None:
        client = await self.connect(preface=False)
        with ExpectLog(
            gen_log,
            "HTTP/2 connection from 127.0.0.1 closed with PROTOCOL_ERROR: Invalid HTTP/2 preamble",
            level=logging.INFO,
        ):
            await client.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            goaway = await client.frame_of(hyperframe.frame.GoAwayFrame)
            await client.closed_by_server()
        self.assertEqual(goaway.error_code, 1)


class BodyTimeoutTest(H2TestCase):
    def get_server_options(self) -> dict[str, Any]:
        return dict(body_timeout=0.3)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_body_timeout(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/echo", "POST"))
        client.h2.send_data(1, b"partial")
        await client.flush()
        with ExpectLog(
            gen_log, "Timeout reading body from 127.0.0.1", level=logging.INFO
        ):
            events = await client.events_until(is_stream_end(1))
        [reset] = of_type(events, h2.events.StreamReset)
        self.assertEqual(reset.error_code, h2.errors.ErrorCodes.CANCEL)
        await self.assert_serves(client, 3)


class IdleTimeoutTest(H2TestCase):
    def get_server_options(self) -> dict[str, Any]:
        return dict(idle_connection_timeout=0.5)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_idle_timeout(self) -> None:
        client = await self.connect()
        client.h2.send_headers(1, request_headers("/info"), end_stream=True)
        await client.flush()
        start = self.io_loop.time()
        goaway = await client.frame_of(hyperframe.frame.GoAwayFrame)
        self.assertEqual((goaway.error_code, goaway.last_stream_id), (0, 1))
        self.assertTrue(await client.closed_by_server())
        self.assertGreaterEqual(self.io_loop.time() - start, 0.4)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_window_that_never_opens(self) -> None:
        client = await self.connect()
        client.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
        client.h2.send_headers(1, request_headers("/big?size=100000"), end_stream=True)
        await client.flush()
        start = self.io_loop.time()
        with ExpectLog(
            gen_log,
            "HTTP/2 connection from 127.0.0.1 closed with NO_ERROR: no data taken",
            level=logging.INFO,
        ):
            goaway = await client.frame_of(hyperframe.frame.GoAwayFrame)
            await client.closed_by_server()
        self.assertEqual(goaway.error_code, 0)
        self.assertLess(self.io_loop.time() - start, 5)
        self.assertEqual(self.gates.flushed, 0)


async def require_curl_http2() -> str:
    curl = require_command("curl", "curl")
    _, version, _ = await run_command(curl, "-V")
    if "HTTP2" not in version:
        raise AssertionError(f"this curl has no HTTP/2 support:\n{version}")
    return curl


class ReadAheadTest(H2TestCase):
    """The server read the start of the connection (sniffing the preface)."""

    async def _start_server(self) -> H2Server:
        return H2Server(make_app(self.gates), tls=False, read_ahead=self.read_ahead)

    read_ahead = len(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_preface_read_first(self) -> None:
        async with self.client() as client:
            self.assertEqual(
                (await self.get_json(client, "/info"))["version"], "HTTP/2.0"
            )


class PartialReadAheadTest(ReadAheadTest):
    read_ahead = 10


class FailingDelegate(HTTPServerConnectionDelegate):
    """Requests whose delegate raises on the body; 103 then 200 for others."""

    def start_request(
        self, server_conn: object, request_conn: Any
    ) -> HTTPMessageDelegate:
        return FailingMessage(request_conn)


class FailingMessage(HTTPMessageDelegate):
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def data_received(self, chunk: bytes) -> None:
        raise ValueError("no body wanted")

    def finish(self) -> None:
        early = HTTPHeaders({"Link": "</style.css>; rel=preload"})
        self.connection.write_headers(ResponseStartLine("", 103, "Early Hints"), early)
        self.connection.write_headers(
            ResponseStartLine("", 200, "OK"),
            HTTPHeaders({"Content-Length": "2"}),
            b"ok",
        )
        self.connection.finish()


class BrokenDelegate(HTTPServerConnectionDelegate):
    def start_request(
        self, server_conn: object, request_conn: Any
    ) -> HTTPMessageDelegate:
        raise RuntimeError("broken")


class DelegateTest(QuietAccessLog, AsyncTestCase):
    @gen_test(timeout=TEST_TIMEOUT)
    async def test_start_request_raising_ends_only_its_connection(self) -> None:
        server = H2Server(BrokenDelegate(), tls=False)
        try:
            for _ in range(2):
                client = await FrameClient.connect(server)
                client.h2.send_headers(1, request_headers("/"), end_stream=True)
                with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
                    with ExpectLog(
                        gen_log,
                        "HTTP/2 connection from 127.0.0.1 closed with INTERNAL_ERROR",
                        level=logging.INFO,
                    ):
                        await client.flush()
                        goaway = await client.frame_of(hyperframe.frame.GoAwayFrame)
                        await client.closed_by_server()
                await client.close()
                self.assertEqual(goaway.error_code, h2.errors.ErrorCodes.INTERNAL_ERROR)
        finally:
            await server.close()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_failing_delegate_and_interim_response(self) -> None:
        server = H2Server(FailingDelegate(), tls=False)
        client = await FrameClient.connect(server)
        try:
            client.h2.send_headers(1, request_headers("/", "POST"))
            client.h2.send_data(1, b"body", end_stream=True)
            await client.flush()
            with ExpectLog(app_log, "Uncaught exception", level=logging.ERROR):
                events = await client.events_until(is_stream_end(1))
            [reset] = of_type(events, h2.events.StreamReset)
            self.assertEqual(reset.error_code, h2.errors.ErrorCodes.INTERNAL_ERROR)
            client.h2.send_headers(3, request_headers("/"), end_stream=True)
            await client.flush()
            events = await client.events_until(is_stream_end(3))
            [early] = of_type(events, h2.events.InformationalResponseReceived)
            self.assertEqual(
                dict(early.headers or []),
                {b":status": b"103", b"link": b"</style.css>; rel=preload"},
            )
            self.assertEqual(
                response_of(events, 3),
                ({b":status": b"200", b"content-length": b"2"}, b"ok"),
            )
        finally:
            await client.close()
            await server.close()


class CommandLineClientTest(H2TestCase):

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_curl_prior_knowledge(self) -> None:
        curl = await require_curl_http2()
        status, out, err = await run_command(
            curl,
            "-sS",
            "--http2-prior-knowledge",
            "-w",
            "\n%{http_version}",
            "-d",
            "a=1&a=2",
            self.url("/info"),
        )
        self.assertEqual(status, 0, err)
        body, version = out.rsplit("\n", 1)
        self.assertEqual(version, "2")
        info = json.loads(body)
        self.assertEqual(
            (info["version"], info["arguments"]), ("HTTP/2.0", {"a": ["1", "2"]})
        )

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_curl_large_download(self) -> None:
        curl = await require_curl_http2()
        status, out, err = await run_command(
            curl,
            "-sS",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download} %{http_version}",
            self.url("/big?size=3000000"),
        )
        self.assertEqual((status, out), (0, "3000000 2"), err)

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_nghttp_frames(self) -> None:
        nghttp = require_command("nghttp", "nghttp2-client")
        status, out, err = await run_command(nghttp, "-nv", self.url("/info?q=frames"))
        self.assertEqual(status, 0, err + out)
        self.assertIn("recv SETTINGS frame", out)
        self.assertIn("[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100]", out)
        self.assertIn("recv (stream_id=13) :status: 200", out)
        self.assertRegex(out, r"recv DATA frame <length=\d+, flags=0x01, stream_id=13>")


class TLSCommandLineClientTest(H2TestCase):
    tls = True

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_curl_alpn(self) -> None:
        curl = await require_curl_http2()
        status, out, err = await run_command(
            curl, "-sS", "--http2", "-k", "-w", "\n%{http_version}", self.url("/info")
        )
        self.assertEqual(status, 0, err)
        body, version = out.rsplit("\n", 1)
        self.assertEqual(version, "2")
        self.assertEqual(json.loads(body)["protocol"], "https")


class CallbackServerTest(QuietAccessLog, AsyncTestCase):
    """A bare `.HTTPServer` callback, writing its own HTTP/1-style head."""

    @staticmethod
    def answer(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        body = f"{request.method} {request.uri} {request.version} {len(request.body)}"
        headers = HTTPHeaders(
            {
                "Content-Length": str(len(body)),
                "Connection": "keep-alive",
                "Keep-Alive": "timeout=5",
                "X-Kept": "yes",
            }
        )
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 201, "Created"), headers, body.encode()
        )
        request.connection.finish()

    @gen_test(timeout=TEST_TIMEOUT)
    async def test_callback(self) -> None:
        server = H2Server(self.answer, tls=False)
        try:
            async with httpx.AsyncClient(http1=False, http2=True) as client:
                response = await client.post(server.url("/cb?x=1"), content=b"abc")
                head = await client.head(server.url("/cb"))
        finally:
            await server.close()
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.text, "POST /cb?x=1 HTTP/2.0 3")
        self.assertEqual(response.headers["x-kept"], "yes")
        self.assertNotIn("connection", response.headers)
        self.assertNotIn("keep-alive", response.headers)
        # HEAD: the head describes the body that is not sent.
        self.assertEqual((head.status_code, head.content), (201, b""))
        self.assertEqual(
            head.headers["content-length"], str(len("HEAD /cb HTTP/2.0 0"))
        )


class WebSocketOverHTTP2Test(H2TestCase):
    @gen_test(timeout=TEST_TIMEOUT)
    async def test_websocket_handler_refuses_plainly(self) -> None:
        # No Upgrade over HTTP/2 (RFC 8441 is not supported): the handler
        # answers as it does to a plain GET, and the connection serves on.
        async with self.client() as client:
            response = await client.get(self.url("/ws"))
            self.assertEqual(response.status_code, 400)
            self.assertEqual((await self.get_json(client, "/info"))["method"], "GET")


class MissingH2Test(AsyncTestCase):
    @gen_test
    async def test_error_names_the_extra(self) -> None:
        with unittest.mock.patch.dict(sys.modules):
            sys.modules.pop("tornado._http2_session", None)
            sys.modules["h2"] = None  # type: ignore[assignment]  # as if missing
            with self.assertRaises(ImportError) as caught:
                HTTP2ServerProtocol(
                    HTTPServer(lambda request: None), HTTP1ConnectionParameters(), None
                )
        self.assertEqual(str(caught.exception), MISSING_H2_MESSAGE)
        self.assertIn('pip install "tornado[http2]"', MISSING_H2_MESSAGE)


if __name__ == "__main__":
    unittest.main()
