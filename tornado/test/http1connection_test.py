"""Tests for tornado.http1connection over real loopback connections.

Each test drives one side with `HTTP1Connection` or `HTTP1ServerConnection`
and plays the other side with a raw `IOStream`.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
import socket
import unittest
from collections.abc import Awaitable
from typing import Any

from tornado.concurrent import Future
from tornado.http1connection import (
    CR_OR_LF_RE,
    HTTP1Connection,
    HTTP1ConnectionParameters,
    HTTP1ServerConnection,
    is_transfer_encoding_chunked,
    parse_hex_int,
    parse_int,
)
from tornado.httpclient import HTTPResponse
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.netutil import add_accept_handler
from tornado.simple_httpclient import HTTPStreamClosedError, SimpleAsyncHTTPClient
from tornado.tcpserver import TCPServer
from tornado.test.util import RSSPeak, report_figure, skip_without_rss_peak
from tornado.testing import AsyncTestCase, ExpectLog, bind_unused_port, gen_test

StartLine = RequestStartLine | ResponseStartLine


class ParsingHelpersTest(unittest.TestCase):
    def test_parse_int(self) -> None:
        self.assertEqual(parse_int("0"), 0)
        self.assertEqual(parse_int("0042"), 42)
        for bad in ("", "-1", "+1", " 1", "1 ", "1_000", "0x10", "١"):
            with self.subTest(bad=bad), self.assertRaisesRegex(ValueError, "integer"):
                parse_int(bad)

    def test_parse_hex_int(self) -> None:
        self.assertEqual(parse_hex_int("ff"), 255)
        self.assertEqual(parse_hex_int("0A"), 10)
        for bad in ("", "-1", "0x1", "g", "1 ", "f_f"):
            with self.subTest(bad=bad), self.assertRaisesRegex(ValueError, "hex"):
                parse_hex_int(bad)

    def test_is_transfer_encoding_chunked(self) -> None:
        self.assertFalse(is_transfer_encoding_chunked(HTTPHeaders()))
        self.assertFalse(
            is_transfer_encoding_chunked(HTTPHeaders({"Content-Length": "x"}))
        )
        self.assertTrue(
            is_transfer_encoding_chunked(HTTPHeaders({"Transfer-Encoding": "Chunked"}))
        )
        with self.assertRaisesRegex(HTTPInputError, "Transfer-Encoding"):
            is_transfer_encoding_chunked(HTTPHeaders({"Transfer-Encoding": "gzip"}))
        with self.assertRaisesRegex(HTTPInputError, "Content-Length"):
            is_transfer_encoding_chunked(
                HTTPHeaders({"Transfer-Encoding": "chunked", "Content-Length": "1"})
            )

    def test_cr_or_lf_re(self) -> None:
        self.assertIsNotNone(CR_OR_LF_RE.search(b"a\rb"))
        self.assertIsNotNone(CR_OR_LF_RE.search(b"a\nb"))
        self.assertIsNone(CR_OR_LF_RE.search(b"a b"))

    def test_parameter_defaults(self) -> None:
        params = HTTP1ConnectionParameters()
        self.assertFalse(params.no_keep_alive)
        self.assertEqual(params.chunk_size, 65536)
        self.assertEqual(params.max_header_size, 65536)
        self.assertIsNone(params.header_timeout)
        self.assertIsNone(params.max_body_size)
        self.assertIsNone(params.body_timeout)
        self.assertFalse(params.decompress)


class Recorder(HTTPMessageDelegate):
    """Records what a connection delivers."""

    def __init__(self) -> None:
        self.start_lines: list[StartLine] = []
        self.headers: list[HTTPHeaders] = []
        self.chunks: list[bytes] = []
        self.finished = False
        self.closed_early = False

    def headers_received(self, start_line: StartLine, headers: HTTPHeaders) -> None:
        self.start_lines.append(start_line)
        self.headers.append(headers)

    def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def finish(self) -> None:
        self.finished = True

    def on_connection_close(self) -> None:
        self.closed_early = True

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class LoopbackTestCase(AsyncTestCase):
    """Provides a connected pair of streams: ``client`` and ``server``."""

    async def connected_pair(self) -> tuple[IOStream, IOStream]:
        listener, port = bind_unused_port()
        accepted: asyncio.Future[socket.socket] = asyncio.Future()
        remove_handler = add_accept_handler(
            listener, lambda conn, address: accepted.set_result(conn)
        )
        client = IOStream(socket.socket())
        self.addCleanup(client.close)
        await client.connect(("127.0.0.1", port))
        server = IOStream(await accepted)
        self.addCleanup(server.close)
        remove_handler()
        listener.close()
        return client, server


class ClientSideTest(LoopbackTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client, self.server = self.io_loop.run_sync(self.connected_pair)

    def connection(self, **params: Any) -> HTTP1Connection:
        return HTTP1Connection(
            self.client, True, HTTP1ConnectionParameters(**params), context="ctx"
        )

    async def request(
        self, response: bytes, method: str = "GET", **params: Any
    ) -> tuple[bool, Recorder]:
        """Send a bodiless request, answer it with ``response``, read it back."""
        conn = self.connection(**params)
        conn.write_headers(
            RequestStartLine(method, "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        conn.finish()
        await self.server.read_until(b"\r\n\r\n")
        await self.server.write(response)
        recorder = Recorder()
        return await conn.read_response(recorder), recorder

    @gen_test
    async def test_request_bytes_on_the_wire(self) -> None:
        conn = self.connection()
        await conn.write_headers(
            RequestStartLine("GET", "/a?b=c", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        conn.finish()
        self.assertEqual(
            await self.server.read_until(b"\r\n\r\n"),
            b"GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n",
        )

    @gen_test
    async def test_post_without_length_is_chunked(self) -> None:
        conn = self.connection()
        conn.write_headers(
            RequestStartLine("POST", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"}), b"ab"
        )
        conn.write(b"cde")
        conn.finish()
        head = await self.server.read_until(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked\r\n", head)
        body = await self.server.read_bytes(len(b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"))
        self.assertEqual(body, b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n")

    @gen_test
    async def test_framing_is_not_written_into_the_callers_headers(self) -> None:
        # A redirect that copies the headers must not inherit this request's
        # framing (a PUT without body would go out as "until close").
        headers = HTTPHeaders({"Host": "x"})
        conn = self.connection()
        conn.write_headers(RequestStartLine("PUT", "/", "HTTP/1.1"), headers, b"ab")
        conn.finish()
        head = await self.server.read_until(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked\r\n", head)
        self.assertEqual(dict(headers), {"Host": "x"})

    @gen_test
    async def test_header_injection_is_refused(self) -> None:
        conn = self.connection()
        with self.assertRaises(ValueError):
            conn.write_headers(
                RequestStartLine("GET", "/", "HTTP/1.1"),
                HTTPHeaders({"X-Evil": "a\r\nX-Injected: b"}),
            )

    @gen_test
    async def test_response_with_content_length(self) -> None:
        keep_alive, recorder = await self.request(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
        )
        self.assertTrue(keep_alive)
        self.assertEqual(
            recorder.start_lines, [ResponseStartLine("HTTP/1.1", 200, "OK")]
        )
        self.assertEqual(recorder.body, b"hello")
        self.assertTrue(recorder.finished)
        self.assertFalse(recorder.closed_early)

    @gen_test
    async def test_chunked_response(self) -> None:
        _, recorder = await self.request(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n",
            chunk_size=2,
        )
        self.assertEqual(recorder.body, b"abcde")
        self.assertTrue(all(0 < len(chunk) <= 2 for chunk in recorder.chunks))
        self.assertTrue(recorder.finished)

    @gen_test
    async def test_response_until_close(self) -> None:
        conn = self.connection()
        conn.write_headers(
            RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        conn.finish()
        await self.server.read_until(b"\r\n\r\n")
        await self.server.write(b"HTTP/1.1 200 OK\r\n\r\nall of ")
        await self.server.write(b"this")
        self.server.close()
        recorder = Recorder()
        self.assertFalse(await conn.read_response(recorder))
        self.assertEqual(recorder.body, b"all of this")
        self.assertTrue(recorder.finished)

    @gen_test
    async def test_head_response_has_no_body(self) -> None:
        keep_alive, recorder = await self.request(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", method="HEAD"
        )
        self.assertTrue(keep_alive)
        self.assertEqual(recorder.body, b"")
        self.assertTrue(recorder.finished)

    @gen_test
    async def test_304_has_no_body(self) -> None:
        _, recorder = await self.request(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"
        )
        self.assertEqual((recorder.body, recorder.finished), (b"", True))

    @gen_test
    async def test_interim_response_then_final(self) -> None:
        # What follows a 1xx head is the next head, never a body.
        _, recorder = await self.request(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        )
        self.assertEqual([s.code for s in recorder.start_lines], [100, 103, 201])  # type: ignore
        self.assertEqual(recorder.body, b"ok")
        self.assertTrue(recorder.finished)

    @gen_test
    async def test_ten_interim_responses_at_most(self) -> None:
        interim = b"HTTP/1.1 102 Processing\r\n\r\n"
        final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        _, recorder = await self.request(interim * 10 + final)
        self.assertEqual(len(recorder.start_lines), 11)
        self.assertEqual(recorder.body, b"ok")

    @gen_test
    async def test_eleventh_interim_response_fails(self) -> None:
        interim = b"HTTP/1.1 102 Processing\r\n\r\n"
        final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        with ExpectLog(
            gen_log,
            "^Malformed HTTP message from ctx: Too many 1xx responses$",
            level=logging.INFO,
        ):
            keep_alive, recorder = await self.request(interim * 11 + final)
        self.assertFalse(keep_alive)
        self.assertEqual(len(recorder.start_lines), 10)
        self.assertTrue(recorder.closed_early)
        self.assertFalse(recorder.finished)
        self.assertTrue(self.client.closed())

    @gen_test
    async def test_interim_response_announcing_a_body(self) -> None:
        with ExpectLog(
            gen_log, ".*Response code 100 cannot have body", level=logging.INFO
        ):
            keep_alive, _ = await self.request(
                b"HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nok"
            )
        self.assertFalse(keep_alive)

    @gen_test
    async def test_read_response_without_a_request(self) -> None:
        # A proxy or test reading a response off a raw stream never called
        # write_headers: the response is read as one to a GET.
        conn = self.connection()
        await self.server.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
            b"HTTP/1.1 200 OK\r\n\r\nuntil close"
        )
        recorder = Recorder()
        self.assertTrue(await conn.read_response(recorder))
        self.assertEqual((recorder.body, recorder.finished), (b"hello", True))
        self.server.close()
        recorder = Recorder()
        self.assertFalse(await self.connection().read_response(recorder))
        self.assertEqual(recorder.body, b"until close")

    @gen_test
    async def test_connection_close_response(self) -> None:
        keep_alive, recorder = await self.request(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertFalse(keep_alive)
        self.assertTrue(self.client.closed())

    @gen_test
    async def test_gzip_response_decompressed(self) -> None:
        data = gzip.compress(b"squeezed " * 50)
        _, recorder = await self.request(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % len(data)
            + data,
            decompress=True,
            chunk_size=64,
        )
        self.assertEqual(recorder.body, b"squeezed " * 50)
        self.assertTrue(all(len(chunk) <= 64 for chunk in recorder.chunks))
        self.assertEqual(recorder.headers[0]["X-Consumed-Content-Encoding"], "gzip")
        self.assertNotIn("Content-Encoding", recorder.headers[0])

    @gen_test
    async def test_malformed_response(self) -> None:
        with ExpectLog(gen_log, "Malformed HTTP message from ctx", level=logging.INFO):
            keep_alive, recorder = await self.request(b"HTTP/1.1 OK\r\n\r\n")
        self.assertFalse(keep_alive)
        self.assertTrue(recorder.closed_early)
        self.assertTrue(self.client.closed())

    @gen_test
    async def test_response_body_too_large(self) -> None:
        with ExpectLog(
            gen_log,
            "Malformed HTTP message.*: Content-Length too long$",
            level=logging.INFO,
        ):
            keep_alive, recorder = await self.request(
                b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n01234567890",
                max_body_size=10,
            )
        self.assertFalse(keep_alive)
        self.assertTrue(recorder.closed_early)

    @gen_test
    async def test_body_until_close_over_max_body_size(self) -> None:
        conn = self.connection(max_body_size=10)
        conn.write_headers(
            RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        conn.finish()
        await self.server.read_until(b"\r\n\r\n")
        await self.server.write(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 11)
        recorder = Recorder()
        with ExpectLog(
            gen_log,
            "^Malformed HTTP message from ctx: Body too long$",
            level=logging.INFO,
        ):
            self.assertFalse(await conn.read_response(recorder))
        self.assertTrue(recorder.closed_early)

    @gen_test
    async def test_server_closing_mid_body(self) -> None:
        conn = self.connection()
        conn.write_headers(
            RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        conn.finish()
        await self.server.read_until(b"\r\n\r\n")
        await self.server.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        self.server.close()
        recorder = Recorder()
        with self.assertRaises(StreamClosedError):
            await conn.read_response(recorder)
        self.assertTrue(recorder.closed_early)
        self.assertFalse(recorder.finished)

    @gen_test
    async def test_header_timeout(self) -> None:
        conn = self.connection(header_timeout=0.05)
        recorder = Recorder()
        self.assertFalse(await conn.read_response(recorder))
        self.assertTrue(recorder.closed_early)
        self.assertTrue(self.client.closed())

    @gen_test
    async def test_write_after_close_fails(self) -> None:
        conn = self.connection()
        conn.close()
        future = conn.write_headers(
            RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
        )
        with self.assertRaises(StreamClosedError):
            await future


class ServerSideTest(LoopbackTestCase):
    """HTTP1ServerConnection with hand-written delegates."""

    async def serve(self, make_delegate: Any, **params: Any) -> HTTP1ServerConnection:
        class Server(HTTPServerConnectionDelegate):
            closed = False

            def start_request(self, server_conn: object, request_conn: Any) -> Any:
                return make_delegate(request_conn)

            def on_close(self, server_conn: object) -> None:
                Server.closed = True

        self.delegate_class = Server
        self.client, stream = await self.connected_pair()
        server_conn = HTTP1ServerConnection(
            stream, HTTP1ConnectionParameters(**params), context="peer"
        )
        server_conn.start_serving(Server())
        return server_conn

    @gen_test
    async def test_set_max_body_size_in_headers_received(self) -> None:
        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()
                self.conn = conn

            def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
                self.conn.set_max_body_size(int(headers["X-Limit"]))

            def finish(self) -> None:
                self.conn.write_headers(
                    ResponseStartLine("HTTP/1.1", 200, "OK"),
                    HTTPHeaders({"Content-Length": "0"}),
                )
                self.conn.finish()

        await self.serve(Delegate, max_body_size=1)
        await self.client.write(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Limit: 5\r\nContent-Length: 5\r\n\r\n12345"
        )
        self.assertIn(b" 200 ", await self.client.read_until(b"\r\n\r\n"))
        with ExpectLog(gen_log, "Malformed HTTP message from peer", level=logging.INFO):
            await self.client.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nX-Limit: 4\r\nContent-Length: 5\r\n\r\n"
            )
            self.assertEqual(
                await self.client.read_until_close(),
                b"HTTP/1.1 400 Bad Request\r\n\r\n",
            )

    @gen_test
    async def test_parked_response_then_next_request(self) -> None:
        # The first response is written once the serving task has ended
        # (the exchange parked); the connection then serves the next request.
        requests: list[Future[HTTP1Connection]] = []

        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()
                self.conn = conn

            def finish(self) -> None:
                requests[-1].set_result(self.conn)

        def answer(conn: HTTP1Connection, body: bytes) -> None:
            conn.write_headers(
                ResponseStartLine("HTTP/1.1", 200, "OK"),
                HTTPHeaders({"Content-Length": str(len(body))}),
                body,
            )
            conn.finish()

        server_conn = await self.serve(Delegate)
        for body in (b"first", b"second"):
            requests.append(Future())
            await self.client.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            conn = await requests[-1]
            if body == b"first":
                while server_conn._task is not None:  # parking ends the task
                    await asyncio.sleep(0)
            answer(conn, body)
            head = await self.client.read_until(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200 OK\r\n"), head)
            self.assertEqual(await self.client.read_bytes(len(body)), body)

    @gen_test
    async def test_set_body_timeout(self) -> None:
        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()
                conn.set_body_timeout(0.05)

        await self.serve(Delegate)
        with ExpectLog(gen_log, "Timeout reading body from peer", level=logging.INFO):
            await self.client.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12"
            )
            self.assertEqual(await self.client.read_until_close(), b"")
        self.assertTrue(self.delegate_class.closed)

    @gen_test
    async def test_exception_in_data_received(self) -> None:
        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()

            def data_received(self, chunk: bytes) -> None:
                raise ZeroDivisionError()

        await self.serve(Delegate)
        with ExpectLog(app_log, "Uncaught exception"):
            await self.client.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1"
            )
            self.assertEqual(await self.client.read_until_close(), b"")

    @gen_test
    async def test_detach_for_protocol_upgrade(self) -> None:
        detached: asyncio.Future[IOStream] = asyncio.Future()

        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()
                self.conn = conn

            def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
                self.conn.write_headers(
                    ResponseStartLine("HTTP/1.1", 101, "Switching Protocols"),
                    HTTPHeaders({"Upgrade": "echo", "Connection": "Upgrade"}),
                )
                detached.set_result(self.conn.detach())
                self.assertIsNone(self.conn.stream)

            def assertIsNone(self, value: object) -> None:
                assert value is None

        await self.serve(Delegate)
        await self.client.write(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"
        )
        head = await self.client.read_until(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"))
        stream = await detached
        await self.client.write(b"not http at all\n")
        self.assertEqual(await stream.read_until(b"\n"), b"not http at all\n")
        await stream.write(b"still raw\n")
        self.assertEqual(await self.client.read_until(b"\n"), b"still raw\n")
        stream.close()
        self.assertTrue(self.delegate_class.closed)

    @gen_test
    async def test_close_ends_serving(self) -> None:
        server_conn = await self.serve(lambda conn: Recorder())
        await server_conn.close()
        self.assertTrue(self.delegate_class.closed)
        self.assertEqual(await self.client.read_until_close(), b"")

    @gen_test
    async def test_response_before_body_is_read(self) -> None:
        # Answering before the request body arrived: the rest of the body is
        # discarded and the connection closed after the response.
        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()
                self.conn = conn

            def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
                self.conn.write_headers(
                    ResponseStartLine("HTTP/1.1", 403, "Forbidden"),
                    HTTPHeaders({"Content-Length": "0"}),
                )
                self.conn.finish()

        await self.serve(Delegate)
        await self.client.write(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n123"
        )
        head = await self.client.read_until(b"\r\n\r\n")
        self.assertIn(b" 403 ", head)
        self.assertEqual(await self.client.read_until_close(), b"")


class FailingDelegate(Recorder):
    """Raises from the delegate method named ``fails_in``."""

    def __init__(self, fails_in: str) -> None:
        super().__init__()
        self.fails_in = fails_in
        self.close_notices = 0

    def headers_received(self, start_line: StartLine, headers: HTTPHeaders) -> None:
        self.maybe_fail("headers_received")
        super().headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> None:
        self.maybe_fail("data_received")
        super().data_received(chunk)

    def finish(self) -> None:
        self.maybe_fail("finish")
        super().finish()

    def on_connection_close(self) -> None:
        self.close_notices += 1

    def maybe_fail(self, method: str) -> None:
        if method == self.fails_in:
            raise ZeroDivisionError(f"{method} failed")


class DelegateErrorTest(LoopbackTestCase):
    """A delegate raising is logged, told of the close once, and ends the exchange."""

    METHODS = ("headers_received", "data_received", "finish")

    @gen_test
    async def test_client_side(self) -> None:
        for method in self.METHODS:
            with self.subTest(method=method):
                client, server = await self.connected_pair()
                conn = HTTP1Connection(client, True)
                conn.write_headers(
                    RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders({"Host": "x"})
                )
                conn.finish()
                await server.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                delegate = FailingDelegate(method)
                with ExpectLog(app_log, "^Uncaught exception$", level=logging.ERROR):
                    self.assertFalse(await conn.read_response(delegate))
                self.assertEqual(delegate.close_notices, 1)
                self.assertTrue(client.closed())
                request = await server.read_until_close()
                self.assertTrue(request.startswith(b"GET / HTTP/1.1\r\n"))

    @gen_test
    async def test_server_side(self) -> None:
        for method in self.METHODS:
            with self.subTest(method=method):
                await self.check_server_side(method)

    async def check_server_side(self, method: str) -> None:
        client, stream = await self.connected_pair()
        delegate = FailingDelegate(method)
        closed: asyncio.Future[None] = asyncio.Future()

        class Server(HTTPServerConnectionDelegate):
            def start_request(self, server_conn: object, request_conn: Any) -> Any:
                return delegate

            def on_close(self, server_conn: object) -> None:
                closed.set_result(None)

        HTTP1ServerConnection(stream).start_serving(Server())
        with ExpectLog(app_log, "^Uncaught exception$", level=logging.ERROR):
            await client.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
            )
            self.assertEqual(await client.read_until_close(), b"")
            await closed
        self.assertEqual(delegate.close_notices, 1)
        self.assertTrue(stream.closed())


class RawResponseTest(LoopbackTestCase):
    @gen_test
    async def test_write_before_write_headers_sends_raw_bytes(self) -> None:
        # The interface older than write_headers: the application formats
        # the whole response itself.
        raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Raw: 1\r\n\r\nhello"

        class Delegate(Recorder):
            def __init__(self, conn: HTTP1Connection) -> None:
                super().__init__()
                self.conn = conn

            def finish(self) -> None:
                self.conn.write(raw[:20])
                self.conn.write(raw[20:])
                self.conn.finish()

        class Server(HTTPServerConnectionDelegate):
            def start_request(self, server_conn: object, request_conn: Any) -> Any:
                return Delegate(request_conn)

        client, stream = await self.connected_pair()
        HTTP1ServerConnection(stream).start_serving(Server())
        for _ in range(2):  # the connection stays usable
            await client.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(await client.read_bytes(len(raw)), raw)


class ChunkedRequestBodyTest(LoopbackTestCase):
    async def serve(self, delegate: HTTPMessageDelegate, **params: Any) -> IOStream:
        class Server(HTTPServerConnectionDelegate):
            def start_request(self, server_conn: object, request_conn: Any) -> Any:
                return delegate

        client, stream = await self.connected_pair()
        HTTP1ServerConnection(
            stream, HTTP1ConnectionParameters(**params)
        ).start_serving(Server())
        return client

    @staticmethod
    def tiny_chunks(count: int) -> bytes:
        return (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"1\r\nx\r\n" * count
            + b"0\r\n\r\n"
        )

    @gen_test
    async def test_small_chunks_are_merged(self) -> None:
        recorder = Recorder()
        client = await self.serve(recorder, chunk_size=1000)
        finished = asyncio.Event()
        recorder.finish = finished.set  # type: ignore[method-assign]
        await client.write(self.tiny_chunks(10_000))
        await finished.wait()
        self.assertEqual(recorder.body, b"x" * 10_000)
        self.assertTrue(all(len(chunk) <= 1000 for chunk in recorder.chunks))
        # One call per chunk would be 10,000; merged, a few dozen at most
        # (a partial piece goes out whenever the data in hand runs out).
        self.assertLess(len(recorder.chunks), 200)

    @gen_test
    async def test_slow_chunks_are_delivered_as_they_come(self) -> None:
        arrived = asyncio.Event()

        class Signalling(Recorder):
            def data_received(self, chunk: bytes) -> None:
                super().data_received(chunk)
                arrived.set()

        recorder = Signalling()
        client = await self.serve(recorder)
        await client.write(self.tiny_chunks(0)[:-5] + b"3\r\nabc\r\n")
        await arrived.wait()
        self.assertEqual(recorder.chunks, [b"abc"])

    @gen_test
    async def test_other_work_runs_while_tiny_chunks_are_decoded(self) -> None:
        count = 20_000
        seen_by_other_work: list[int] = []
        received = 0

        class Counter(Recorder):
            def data_received(self, chunk: bytes) -> None:
                nonlocal received
                if not received:
                    loop.call_soon(lambda: seen_by_other_work.append(received))
                received += len(chunk)

        loop = asyncio.get_running_loop()
        counter = Counter()
        # chunk_size 1: every byte goes out alone, so "received" counts chunks.
        client = await self.serve(counter, chunk_size=1)
        finished = asyncio.Event()
        counter.finish = finished.set  # type: ignore[method-assign]
        await client.write(self.tiny_chunks(count))
        await finished.wait()
        self.assertEqual(received, count)
        # About 1 KiB of work per chunk: a turn for others every ~256 chunks.
        self.assertEqual(len(seen_by_other_work), 1)
        self.assertLess(seen_by_other_work[0], 2000)


class CannedServer(TCPServer):
    """Answers every request (once its head is in) with fixed bytes, then closes."""

    def __init__(self, response: bytes) -> None:
        super().__init__()
        self.response = response

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        try:
            await stream.read_until(b"\r\n\r\n")
            await stream.write(self.response)
        except StreamClosedError:
            pass
        stream.close()


def gzip_response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


class SimpleClientTest(AsyncTestCase):
    """The simple HTTP client's side of HTTP1Connection, through fetches."""

    def fetch(
        self,
        response: bytes,
        client_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Awaitable[HTTPResponse]:
        sock, port = bind_unused_port()
        server = CannedServer(response)
        server.add_sockets([sock])
        self.addCleanup(server.stop)
        client: SimpleAsyncHTTPClient = SimpleAsyncHTTPClient(
            force_instance=True, **(client_options or {})
        )
        self.addCleanup(client.close)
        return client.fetch(f"http://127.0.0.1:{port}/", **kwargs)

    async def fetch_fails(self, response: bytes, message: str, **kwargs: Any) -> None:
        """The fetch fails with 599 and the connection logs ``message``."""
        pattern = "^Malformed HTTP message from .*: " + re.escape(message)
        with ExpectLog(gen_log, pattern, level=logging.INFO):
            with self.assertRaises(HTTPStreamClosedError) as caught:
                await self.fetch(response, **kwargs)
        self.assertEqual(caught.exception.code, 599)

    @gen_test
    async def test_interim_responses(self) -> None:
        final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        interim = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        result = await self.fetch(interim * 10 + final)
        self.assertEqual((result.code, result.body), (200, b"ok"))
        await self.fetch_fails(interim * 11 + final, "Too many 1xx responses")

    @gen_test
    async def test_interim_response_has_no_body(self) -> None:
        # The bytes after a 1xx head are the next head, not a body.
        result = await self.fetch(
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
        self.assertEqual((result.code, result.body), (200, b"ok"))

    @gen_test
    async def test_concatenated_gzip_members(self) -> None:
        body = gzip.compress(b"one, ") + gzip.compress(b"") + gzip.compress(b"two")
        result = await self.fetch(gzip_response(body), decompress_response=True)
        self.assertEqual((result.code, result.body), (200, b"one, two"))
        self.assertNotIn("Content-Encoding", result.headers)

    @gen_test
    async def test_invalid_gzip(self) -> None:
        data = gzip.compress(b"some text" * 100)
        truncated = "Error -5 while decompressing data: incomplete or truncated stream"
        bad_header = "Error -3 while decompressing data: incorrect header check"
        cases = {
            "truncated": (data[:-5], truncated),
            "trailing garbage": (data + b"garbage", bad_header),
            "trailing NULs": (data + b"\0\0\0\0", bad_header),
            "one trailing NUL": (data + b"\0", truncated),
            "not gzip": (b"plain text", bad_header),
        }
        for case, (body, zlib_message) in cases.items():
            with self.subTest(case=case):
                await self.fetch_fails(
                    gzip_response(body),
                    "invalid gzip data: " + zlib_message,
                    decompress_response=True,
                )

    @gen_test
    async def test_decompressed_body_too_large(self) -> None:
        body = gzip.compress(b"x" * 10_000)
        for streaming in (False, True):
            with self.subTest(streaming=streaming):
                chunks: list[bytes] = []
                await self.fetch_fails(
                    gzip_response(body),
                    "decompressed body too large",
                    client_options={"max_body_size": 9_999},
                    decompress_response=True,
                    streaming_callback=chunks.append if streaming else None,
                )
                self.assertLessEqual(sum(map(len, chunks)), 9_999)
        result = await self.fetch(
            gzip_response(body),
            client_options={"max_body_size": 10_000},
            decompress_response=True,
        )
        self.assertEqual(len(result.body), 10_000)

    @skip_without_rss_peak
    @gen_test(timeout=30)
    async def test_gigabyte_bomb_costs_bounded_memory(self) -> None:
        member = gzip.compress(b"\0" * (1 << 20))
        bomb = member * 1024  # 1 GiB inflated
        limit = (1 << 30) - 1
        received = 0

        def count(chunk: bytes) -> None:
            nonlocal received
            received += len(chunk)

        with RSSPeak() as peak:
            await self.fetch_fails(
                gzip_response(bomb),
                "decompressed body too large",
                client_options={"max_body_size": limit},
                decompress_response=True,
                streaming_callback=count,
            )
        self.assertGreater(received, limit - 65536)
        self.assertLess(peak.growth, 16 << 20)
        report_figure("gzip bomb (simple client), peak RSS growth", peak.growth)


if __name__ == "__main__":
    unittest.main()
