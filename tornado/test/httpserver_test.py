"""Tests for tornado.httpserver, over real loopback connections.

The client side is a raw `IOStream`, so every byte on the wire is under the
test's control: malformed requests, pipelining, stalls.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import socket
import ssl
import tempfile
import unittest
from typing import Any

from tornado import _http1wire, netutil
from tornado.http1connection import HTTP1Connection
from tornado.httpserver import HTTPRequest, HTTPServer
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream, SSLIOStream
from tornado.log import app_log, gen_log
from tornado.test.util import ipv6_available, respond
from tornado.testing import (
    AsyncHTTPTestCase,
    AsyncTestCase,
    ExpectLog,
    bind_unused_port,
    gen_test,
)

TEST_DIR = os.path.dirname(os.path.abspath(__file__))

Response = tuple[ResponseStartLine, HTTPHeaders, bytes]


async def read_response(stream: IOStream, method: str = "GET") -> Response:
    """Read one response off ``stream``, decoding whatever framing it uses."""
    head = await stream.read_until_regex(rb"\r?\n\r?\n")
    start_line, headers = _http1wire.parse_response_head(head)
    framing = _http1wire.response_body_framing(headers, start_line.code, method)
    if framing.kind is _http1wire.BodyKind.LENGTH:
        body = await stream.read_bytes(framing.length)
    elif framing.kind is _http1wire.BodyKind.CHUNKED:
        body = await read_chunked(stream)
    elif framing.kind is _http1wire.BodyKind.UNTIL_CLOSE:
        body = await stream.read_until_close()
    else:
        body = b""
    return start_line, headers, body


async def read_chunked(stream: IOStream) -> bytes:
    decoder = _http1wire.ChunkedDecoder()
    pieces: list[bytes] = []
    while not decoder.finished:
        hint = decoder.next_read()
        if hint.delimiter is None:
            data = await stream.read_bytes(hint.max_bytes, partial=True)
        else:
            data = await stream.read_until(hint.delimiter)
        pieces.extend(decoder.feed(data))
    return b"".join(pieces)


def echo(request: HTTPServerRequest) -> None:
    """Describe the request in the response body."""
    args = sorted((k, [v.decode() for v in vs]) for k, vs in request.arguments.items())
    description = (
        f"{request.method} {request.uri} {request.version} "
        f"ip={request.remote_ip} proto={request.protocol} body={request.body!r} "
        f"args={args}"
    )
    respond(request, description.encode())


class ServerTestCase(AsyncTestCase):
    """Runs an `HTTPServer` on a loopback port; tests talk to it raw."""

    def get_handler(self) -> Any:
        return echo

    def get_server_options(self) -> dict[str, Any]:
        return {}

    def setUp(self) -> None:
        super().setUp()
        sock, self.port = bind_unused_port()
        self.server = HTTPServer(self.get_handler(), **self.get_server_options())
        self.server.add_sockets([sock])

    def tearDown(self) -> None:
        self.server.stop()
        self.io_loop.run_sync(self.server.close_all_connections)
        super().tearDown()

    async def connect(self) -> IOStream:
        stream = IOStream(socket.socket(socket.AF_INET))
        self.addCleanup(stream.close)
        await stream.connect(("127.0.0.1", self.port))
        return stream

    async def exchange(self, data: bytes, method: str = "GET") -> Response:
        """Send raw ``data`` on a new connection and read one response."""
        stream = await self.connect()
        await stream.write(data)
        return await read_response(stream, method)

    async def assert_closed(self, stream: IOStream) -> None:
        """The server closes ``stream`` without sending anything more."""
        self.assertEqual(await stream.read_until_close(), b"")

    async def rejected(self, data: bytes, message: str = "") -> None:
        """``data`` gets the bare 400 answer, logged once, and the connection closes.

        With a ``message``, the log line must end with it.
        """
        stream = await self.connect()
        with self.assertLogs("tornado.general", logging.INFO) as logs:
            await stream.write(data)
            answer = await stream.read_until_close()
        self.assertEqual(answer, b"HTTP/1.1 400 Bad Request\r\n\r\n")
        self.assertEqual(len(logs.records), 1, logs.output)
        (record,) = logs.records
        self.assertEqual(record.levelno, logging.INFO)
        self.assertTrue(
            record.getMessage().startswith("Malformed HTTP message from 127.0.0.1: ")
        )
        if message:
            self.assertTrue(record.getMessage().endswith(": " + message), record)

    async def closed_unanswered(self, data: bytes) -> None:
        """``data`` makes the server close the connection without an answer."""
        stream = await self.connect()
        with self.assertLogs("tornado.general", logging.INFO) as logs:
            await stream.write(data)
            self.assertEqual(await stream.read_until_close(), b"")
        self.assertEqual(len(logs.records), 1, logs.output)
        self.assertRegex(
            logs.records[0].getMessage(),
            "^Unsatisfiable read, closing connection: .* not found within",
        )


class BasicTest(ServerTestCase):
    @gen_test
    async def test_get(self) -> None:
        start_line, headers, body = await self.exchange(
            b"GET /path?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\n\r\n"
        )
        self.assertEqual(start_line.code, 200)
        self.assertEqual(
            body,
            b"GET /path?a=1&b=2 HTTP/1.1 ip=127.0.0.1 proto=http body=b'' "
            b"args=[('a', ['1']), ('b', ['2'])]",
        )
        self.assertNotIn("Connection", headers)

    @gen_test
    async def test_post_form_body(self) -> None:
        _, _, body = await self.exchange(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nc=3&d=4"
        )
        self.assertIn(b"body=b'c=3&d=4' args=[('c', ['3']), ('d', ['4'])]", body)

    @gen_test
    async def test_bare_lf_line_endings(self) -> None:
        _, _, body = await self.exchange(b"GET /lf HTTP/1.1\nHost: x\n\n")
        self.assertTrue(body.startswith(b"GET /lf HTTP/1.1"))

    @gen_test
    async def test_obsolete_line_folding_is_rejected(self) -> None:
        await self.rejected(
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n  two\r\n\r\n",
            "header line cannot start with whitespace, folding not supported",
        )

    @gen_test
    async def test_non_ascii_header_value_is_kept_as_latin1(self) -> None:
        seen: list[str] = []

        def handler(request: HTTPServerRequest) -> None:
            seen.append(request.headers["X-Name"])
            respond(request, b"")

        self.server.request_callback = handler
        await self.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xe9\r\n\r\n")
        self.assertEqual(seen, ["caf\xe9"])

    @gen_test
    async def test_duplicate_equal_content_length_is_accepted(self) -> None:
        _, _, body = await self.exchange(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            b"Content-Length: 2\r\n\r\nok"
        )
        self.assertIn(b"body=b'ok'", body)

    @gen_test
    async def test_chunked_request_body(self) -> None:
        _, _, body = await self.exchange(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4;name=value\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        self.assertIn(b"body=b'abcdefg'", body)

    @gen_test
    async def test_head_request_gets_no_body(self) -> None:
        stream = await self.connect()
        await stream.write(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        start_line, headers, body = await read_response(stream, "HEAD")
        self.assertEqual((start_line.code, body), (200, b""))
        self.assertIn("Content-Length", headers)  # describing the unsent body
        # The connection is still usable: nothing stray was sent.
        await stream.write(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        _, _, body = await read_response(stream)
        self.assertTrue(body.startswith(b"GET /next"))

    def test_http_request_alias(self) -> None:
        self.assertIs(HTTPRequest, HTTPServerRequest)


class KeepAliveTest(ServerTestCase):
    @gen_test
    async def test_http11_keeps_connection_open(self) -> None:
        stream = await self.connect()
        for path in (b"/one", b"/two"):
            await stream.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            _, _, body = await read_response(stream)
            self.assertTrue(body.startswith(b"GET " + path))

    @gen_test
    async def test_http11_connection_close(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _, headers, _ = await read_response(stream)
        self.assertEqual(headers["Connection"], "close")
        await self.assert_closed(stream)

    @gen_test
    async def test_application_closing_the_connection(self) -> None:
        def handler(request: HTTPServerRequest) -> None:
            respond(request, b"bye", headers={"Connection": "close"})

        self.server.request_callback = handler
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _, headers, body = await read_response(stream)
        self.assertEqual((headers["Connection"], body), ("close", b"bye"))
        await self.assert_closed(stream)

    @gen_test
    async def test_http10_closes_by_default(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.0\r\n\r\n")
        start_line, headers, body = await read_response(stream)
        self.assertTrue(body.startswith(b"GET / HTTP/1.0"))
        self.assertNotIn("Connection", headers)
        await self.assert_closed(stream)

    @gen_test
    async def test_http10_keep_alive(self) -> None:
        stream = await self.connect()
        for _ in range(2):
            await stream.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            _, headers, body = await read_response(stream)
            self.assertEqual(headers["Connection"], "Keep-Alive")
            self.assertTrue(body.startswith(b"GET / HTTP/1.0"))

    @gen_test
    async def test_http10_response_without_length_ends_with_close(self) -> None:
        def handler(request: HTTPServerRequest) -> None:
            assert request.connection is not None
            request.connection.write_headers(
                ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders(), b"part1 "
            )
            request.connection.write(b"part2")
            request.connection.finish()

        self.server.request_callback = handler
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        _, headers, body = await read_response(stream)
        self.assertNotIn("Connection", headers)
        self.assertNotIn("Transfer-Encoding", headers)
        self.assertEqual(body, b"part1 part2")

    @gen_test
    async def test_pipelined_requests_answered_in_order(self) -> None:
        stream = await self.connect()
        await stream.write(
            b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            b"GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        bodies = [(await read_response(stream))[2] for _ in range(3)]
        self.assertTrue(bodies[0].startswith(b"GET /1 "))
        self.assertTrue(bodies[1].startswith(b"POST /2 "))
        self.assertIn(b"body=b'abc'", bodies[1])
        self.assertTrue(bodies[2].startswith(b"GET /3 "))


class NoKeepAliveTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {"no_keep_alive": True}

    @gen_test
    async def test_connection_closed_after_response(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _, headers, _ = await read_response(stream)
        self.assertEqual(headers["Connection"], "close")
        await self.assert_closed(stream)


class ChunkedResponseTest(ServerTestCase):
    def get_handler(self) -> Any:
        def handler(request: HTTPServerRequest) -> None:
            assert request.connection is not None
            request.connection.write_headers(
                ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders(), b"first,"
            )
            request.connection.write(b"")  # an empty write sends nothing
            request.connection.write(b"second")
            request.connection.finish()

        return handler

    @gen_test
    async def test_chunked_response_to_http11(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await stream.read_until(b"\r\n\r\n")
        self.assertIn(b"Transfer-Encoding: chunked\r\n", head)
        self.assertEqual(await read_chunked(stream), b"first,second")


class ContinueTest(ServerTestCase):
    @gen_test
    async def test_100_continue(self) -> None:
        stream = await self.connect()
        await stream.write(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        interim = await stream.read_until(b"\r\n\r\n")
        self.assertEqual(interim, b"HTTP/1.1 100 (Continue)\r\n\r\n")
        await stream.write(b"data")
        _, _, body = await read_response(stream)
        self.assertIn(b"body=b'data'", body)

    @gen_test
    async def test_no_100_continue_for_http10(self) -> None:
        stream = await self.connect()
        await stream.write(
            b"POST / HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
            b"data"
        )
        start_line, _, body = await read_response(stream)
        self.assertEqual(start_line.code, 200)
        self.assertIn(b"body=b'data'", body)


class GzipTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {
            "decompress_request": True,
            "max_body_size": 100_000,
            "chunk_size": 512,
        }

    def get_handler(self) -> Any:
        def handler(request: HTTPServerRequest) -> None:
            consumed = request.headers.get("X-Consumed-Content-Encoding", "-")
            respond(request, consumed.encode() + b" " + request.body)

        return handler

    def post(self, body: bytes, encoding: bytes = b"gzip") -> bytes:
        return (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: %s\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (encoding, len(body), body)
        )

    @gen_test
    async def test_gzip_body_is_decompressed(self) -> None:
        text = b"hello gzip " * 100
        _, _, body = await self.exchange(self.post(gzip.compress(text)))
        self.assertEqual(body, b"gzip " + text)

    @gen_test
    async def test_other_encodings_are_left_alone(self) -> None:
        _, _, body = await self.exchange(self.post(b"raw", b"identity"))
        self.assertEqual(body, b"- raw")

    @gen_test
    async def test_gzip_bomb_is_bounded(self) -> None:
        bomb = gzip.compress(b"\0" * 10_000_000)
        self.assertLess(len(bomb), 100_000)
        await self.rejected(self.post(bomb), "decompressed body too large")

    @gen_test
    async def test_concatenated_members_are_all_decoded(self) -> None:
        body = gzip.compress(b"one ") + gzip.compress(b"two")
        _, _, answer = await self.exchange(self.post(body))
        self.assertEqual(answer, b"gzip one two")

    @gen_test
    async def test_corrupt_gzip_is_rejected(self) -> None:
        await self.rejected(
            self.post(b"this is not gzip data"),
            "invalid gzip data: Error -3 while decompressing data: "
            "incorrect header check",
        )

    @gen_test
    async def test_truncated_gzip_is_rejected(self) -> None:
        await self.rejected(
            self.post(gzip.compress(b"some data")[:-4]),
            "invalid gzip data: Error -5 while decompressing data: "
            "incomplete or truncated stream",
        )

    @gen_test
    async def test_gzip_with_trailing_garbage_is_rejected(self) -> None:
        for trailing in (b"\0\0\0\0", b"junk"):
            with self.subTest(trailing=trailing):
                await self.rejected(
                    self.post(gzip.compress(b"some data") + trailing),
                    "invalid gzip data: Error -3 while decompressing data: "
                    "incorrect header check",
                )


class BadRequestTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {"max_header_size": 1024, "max_body_size": 100}

    @gen_test
    async def test_malformed_request_line(self) -> None:
        await self.rejected(b"GET /\r\nHost: x\r\n\r\n")

    @gen_test
    async def test_extra_space_in_request_line(self) -> None:
        await self.rejected(b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n")

    @gen_test
    async def test_unsupported_version(self) -> None:
        await self.rejected(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")

    @gen_test
    async def test_malformed_version(self) -> None:
        await self.rejected(b"GET / HTTP/1.1x\r\nHost: x\r\n\r\n")

    @gen_test
    async def test_missing_host_in_http11(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\n\r\n", "Missing Host header")
        start_line, _, _ = await self.exchange(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(start_line.code, 200)

    @gen_test
    async def test_empty_line_before_the_headers_ends_the_head(self) -> None:
        # So the Host header after it does not belong to the request.
        await self.rejected(
            b"GET / HTTP/1.1\r\n\r\nHost: x\r\n\r\n", "Missing Host header"
        )

    @gen_test
    async def test_repeated_host(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")

    @gen_test
    async def test_invalid_host(self) -> None:
        for host in (b"a/b", b"a,b", b"a%20b", b"a\tb"):
            with self.subTest(host=host):
                await self.rejected(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")

    @gen_test
    async def test_whitespace_before_first_header_name(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\n Host: x\r\n\r\n")

    @gen_test
    async def test_whitespace_before_colon(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")

    @gen_test
    async def test_header_without_colon(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n")

    @gen_test
    async def test_non_ascii_header_name(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\nHost: x\r\nX-Caf\xe9: 1\r\n\r\n")

    @gen_test
    async def test_control_character_in_header(self) -> None:
        await self.rejected(b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\0b\r\n\r\n")

    @gen_test
    async def test_conflicting_content_lengths(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            b"Content-Length: 3\r\n\r\nabc"
        )

    @gen_test
    async def test_non_numeric_content_length(self) -> None:
        await self.rejected(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n")

    @gen_test
    async def test_content_length_with_transfer_encoding(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )

    @gen_test
    async def test_unknown_transfer_coding(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "Unsupported Transfer-Encoding gzip, chunked",
        )

    @gen_test
    async def test_transfer_coding_list_with_empty_elements(self) -> None:
        for value in (b"chunked,", b",chunked", b"chunked , "):
            with self.subTest(value=value):
                await self.rejected(
                    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n\r\n"
                    b"0\r\n\r\n" % value
                )
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Transfer-Encoding:\r\n\r\n0\r\n\r\n"
        )

    @gen_test
    async def test_content_length_list_with_spaces_before_commas(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 , 5\r\n\r\nhello"
        )

    @gen_test
    async def test_invalid_chunk_size(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0x3\r\nabc\r\n0\r\n\r\n",
            "invalid chunk size",
        )

    @gen_test
    async def test_invalid_chunk_extension(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;=bad\r\nabc\r\n0\r\n\r\n"
        )

    @gen_test
    async def test_chunk_without_crlf_after_data(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabcX\r\n0\r\n\r\n",
            "improperly terminated chunk",
        )

    @gen_test
    async def test_last_chunk_without_crlf(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n0\r\nXY\r\n\r\n",
            "improperly terminated chunked request",
        )

    @gen_test
    async def test_body_over_max_body_size(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
            "Content-Length too long",
        )

    @gen_test
    async def test_chunked_body_over_max_body_size(self) -> None:
        await self.rejected(
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"64\r\n" + b"a" * 100 + b"\r\n1\r\n",
            "chunked body too large",
        )

    @gen_test
    async def test_headers_over_max_header_size(self) -> None:
        await self.closed_unanswered(
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 2000 + b"\r\n\r\n"
        )

    @gen_test
    async def test_unterminated_head_over_max_header_size(self) -> None:
        # The limit is hit before any end of head arrives.
        await self.closed_unanswered(b"GET / HTTP/1.1\r\nX-Filler: " + b"a" * 3000)

    @gen_test
    async def test_thousands_of_headers(self) -> None:
        # Within the limit, many headers parse fine (and quickly).
        self.server.conn_params.max_header_size = 1 << 20
        headers = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(5000))
        start_line, _, _ = await self.exchange(
            b"GET / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
        )
        self.assertEqual(start_line.code, 200)

    @gen_test
    async def test_malformed_form_body(self) -> None:
        body = b"--1234\r\nContent-Disposition: nonsense\r\n\r\nvalue\r\n--1234--\r\n"
        await self.rejected(
            b"POST /?q=1 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=1234\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )


class ErrorInHandlerTest(ServerTestCase):
    def get_handler(self) -> Any:
        def handler(request: HTTPServerRequest) -> None:
            raise ValueError("handler failed")

        return handler

    @gen_test
    async def test_uncaught_exception_is_logged_and_connection_closed(self) -> None:
        stream = await self.connect()
        with ExpectLog(app_log, "Uncaught exception"):
            await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await self.assert_closed(stream)


class OutputErrorTest(ServerTestCase):
    def get_handler(self) -> Any:
        def handler(request: HTTPServerRequest) -> None:
            assert request.connection is not None
            declared = {"Content-Length": "5"}
            start_line = ResponseStartLine("HTTP/1.1", 200, "OK")
            conn = request.connection
            try:
                if request.path == "/long":
                    conn.write_headers(start_line, HTTPHeaders(declared), b"123456")
                else:
                    conn.write_headers(start_line, HTTPHeaders(declared), b"123")
                    conn.finish()
            except HTTPOutputError as e:
                self.errors.append(str(e))

        return handler

    def setUp(self) -> None:
        super().setUp()
        self.errors: list[str] = []

    @gen_test
    async def test_too_much_data(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET /long HTTP/1.1\r\nHost: x\r\n\r\n")
        await self.assert_closed(stream)
        self.assertEqual(len(self.errors), 1)
        self.assertIn("more data than Content-Length", self.errors[0])

    @gen_test
    async def test_too_little_data(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await stream.read_until_close()
        self.assertTrue(data.endswith(b"\r\n\r\n123"))
        self.assertIn("2 bytes less than Content-Length", self.errors[0])


class TimeoutTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {"idle_connection_timeout": 0.1, "body_timeout": 0.1}

    @gen_test
    async def test_idle_connection_is_closed(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await read_response(stream)
        await self.assert_closed(stream)

    @gen_test
    async def test_client_stalling_mid_headers_is_closed(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        await self.assert_closed(stream)

    @gen_test
    async def test_client_stalling_mid_body_is_closed(self) -> None:
        stream = await self.connect()
        with ExpectLog(gen_log, "Timeout reading body", level=logging.INFO):
            await stream.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"
            )
            await self.assert_closed(stream)

    @gen_test
    async def test_active_connection_outlives_the_timeout(self) -> None:
        stream = await self.connect()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 0.3
        while loop.time() < deadline:  # requests keep coming; no idling
            await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await read_response(stream)
            await asyncio.sleep(0.01)


class XHeadersTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {"xheaders": True, "trusted_downstream": ["10.0.0.9"]}

    async def remote(self, *headers: bytes) -> bytes:
        _, _, body = await self.exchange(
            b"GET / HTTP/1.1\r\nHost: x\r\n"
            + b"".join(h + b"\r\n" for h in headers)
            + b"\r\n"
        )
        return body.split(b" ")[3] + b" " + body.split(b" ")[4]

    @gen_test
    async def test_no_headers(self) -> None:
        self.assertEqual(await self.remote(), b"ip=127.0.0.1 proto=http")

    @gen_test
    async def test_x_real_ip(self) -> None:
        self.assertEqual(
            await self.remote(b"X-Real-Ip: 4.4.4.4"), b"ip=4.4.4.4 proto=http"
        )

    @gen_test
    async def test_invalid_ip_is_ignored(self) -> None:
        self.assertEqual(
            await self.remote(b"X-Real-Ip: not-an-ip"), b"ip=127.0.0.1 proto=http"
        )

    @gen_test
    async def test_ipv6(self) -> None:
        self.assertEqual(
            await self.remote(b"X-Real-Ip: 2620:0:1cfe:face:b00c::3"),
            b"ip=2620:0:1cfe:face:b00c::3 proto=http",
        )

    @gen_test
    async def test_forwarded_for_takes_rightmost_untrusted(self) -> None:
        self.assertEqual(
            await self.remote(b"X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.9"),
            b"ip=2.2.2.2 proto=http",
        )

    @gen_test
    async def test_scheme_headers(self) -> None:
        self.assertEqual(
            await self.remote(b"X-Scheme: https"), b"ip=127.0.0.1 proto=https"
        )
        self.assertEqual(
            await self.remote(b"X-Forwarded-Proto: http, https"),
            b"ip=127.0.0.1 proto=https",
        )
        self.assertEqual(
            await self.remote(b"X-Forwarded-Proto: gopher"), b"ip=127.0.0.1 proto=http"
        )

    @gen_test
    async def test_values_do_not_leak_into_next_request(self) -> None:
        stream = await self.connect()
        await stream.write(
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Real-Ip: 4.4.4.4\r\nX-Scheme: https\r\n\r\n"
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        first = (await read_response(stream))[2]
        second = (await read_response(stream))[2]
        self.assertIn(b"ip=4.4.4.4 proto=https", first)
        self.assertIn(b"ip=127.0.0.1 proto=http", second)


class ProtocolOptionTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {"protocol": "https"}

    @gen_test
    async def test_protocol_override(self) -> None:
        _, _, body = await self.exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"proto=https", body)


class SSLTest(ServerTestCase):
    def get_server_options(self) -> dict[str, Any]:
        return {
            "ssl_options": {
                "certfile": os.path.join(TEST_DIR, "test.crt"),
                "keyfile": os.path.join(TEST_DIR, "test.key"),
            }
        }

    @gen_test
    async def test_https_request(self) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        stream = SSLIOStream(socket.socket(), ssl_options=context)
        self.addCleanup(stream.close)
        await stream.connect(("127.0.0.1", self.port))
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        start_line, _, body = await read_response(stream)
        self.assertEqual(start_line.code, 200)
        self.assertIn(b"proto=https", body)


class IPv6Test(AsyncTestCase):
    @unittest.skipIf(not ipv6_available(), "no IPv6 loopback here")
    @gen_test
    async def test_ipv6_client_address(self) -> None:
        sock, port = bind_unused_port(address="::1")
        server = HTTPServer(echo)
        server.add_sockets([sock])
        client = IOStream(socket.socket(socket.AF_INET6))
        try:
            await client.connect(("::1", port))
            await client.write(b"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n")
            _, _, body = await read_response(client)
            self.assertIn(b"ip=::1 ", body)
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()


class UnixSocketTest(AsyncTestCase):
    @unittest.skipIf(not hasattr(socket, "AF_UNIX"), "no Unix sockets here")
    @gen_test
    async def test_unix_socket(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "http.sock")
        server = HTTPServer(echo)
        server.add_socket(netutil.bind_unix_socket(path))
        client = IOStream(socket.socket(socket.AF_UNIX))
        try:
            await client.connect(path)
            await client.write(b"GET /unix HTTP/1.0\r\n\r\n")
            _, _, body = await read_response(client)
            self.assertTrue(body.startswith(b"GET /unix HTTP/1.0 ip=0.0.0.0"))
        finally:
            client.close()
            server.stop()
            await server.close_all_connections()


class StreamingDelegateTest(ServerTestCase):
    """An HTTPServerConnectionDelegate receives the body as it arrives."""

    def get_handler(self) -> Any:
        test = self

        class Delegate(HTTPMessageDelegate):
            def __init__(self, conn: HTTP1Connection) -> None:
                self.conn = conn
                self.chunks: list[bytes] = []

            def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
                test.starts.append(start_line)

            async def data_received(self, chunk: bytes) -> None:
                self.chunks.append(chunk)
                await asyncio.sleep(0)  # flow control: the read waits for this

            def finish(self) -> None:
                body = b"|".join(self.chunks)
                self.conn.write_headers(
                    ResponseStartLine("HTTP/1.1", 200, "OK"),
                    HTTPHeaders({"Content-Length": str(len(body))}),
                    body,
                )
                self.conn.finish()

        class Server(HTTPServerConnectionDelegate):
            def start_request(self, server_conn: object, request_conn: Any) -> Any:
                return Delegate(request_conn)

        return Server()

    def get_server_options(self) -> dict[str, Any]:
        return {"chunk_size": 4}

    def setUp(self) -> None:
        self.starts: list[RequestStartLine] = []
        super().setUp()

    @gen_test
    async def test_body_delivered_in_chunks(self) -> None:
        _, _, body = await self.exchange(
            b"POST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
        )
        self.assertEqual(body, b"0123|4567|89")
        self.assertEqual(self.starts, [RequestStartLine("POST", "/s", "HTTP/1.1")])


class LateResponseTest(ServerTestCase):
    """Responses written after the request handler returned (long polling)."""

    def get_handler(self) -> Any:
        self.parked: asyncio.Queue[HTTPServerRequest] = asyncio.Queue()

        def handler(request: HTTPServerRequest) -> None:
            if request.path == "/park":
                self.parked.put_nowait(request)  # answered by the test
            else:
                echo(request)

        return handler

    def get_server_options(self) -> dict[str, Any]:
        return {"idle_connection_timeout": 0.2}

    async def answer_late(
        self, stream: IOStream, body: bytes, also_sent: bytes = b""
    ) -> None:
        """Send ``GET /park`` (then ``also_sent``); answer it once parked."""
        await stream.write(b"GET /park HTTP/1.1\r\nHost: x\r\n\r\n" + also_sent)
        request = await self.parked.get()
        await asyncio.sleep(0.01)  # parked across loop iterations
        respond(request, body)
        self.assertEqual((await read_response(stream))[2], body)

    @gen_test
    async def test_connection_goes_on_after_a_late_response(self) -> None:
        stream = await self.connect()
        for i in range(3):
            await self.answer_late(stream, b"late %d" % i)
        await stream.write(b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue((await read_response(stream))[2].startswith(b"GET /now"))

    @gen_test
    async def test_idle_timeout_applies_after_a_late_response(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET /park HTTP/1.1\r\nHost: x\r\n\r\n")
        request = await self.parked.get()
        await asyncio.sleep(0.3)  # longer than the idle timeout: not idle
        respond(request, b"late")
        self.assertEqual((await read_response(stream))[2], b"late")
        await self.assert_closed(stream)  # now idle, so closed

    @gen_test
    async def test_request_sent_while_parked_is_served_next(self) -> None:
        stream = await self.connect()
        await self.answer_late(
            stream, b"late", also_sent=b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        self.assertTrue((await read_response(stream))[2].startswith(b"GET /next"))

    @gen_test
    async def test_client_leaving_after_a_late_response_ends_the_connection(
        self,
    ) -> None:
        stream = await self.connect()
        await self.answer_late(stream, b"late")
        stream.close()
        while self.server._connections:
            await asyncio.sleep(0.01)

    @gen_test
    async def test_oversized_head_after_a_late_response_closes(self) -> None:
        stream = await self.connect()
        await self.answer_late(stream, b"late")
        with ExpectLog(gen_log, "Unsatisfiable read, closing", level=logging.INFO):
            await stream.write(b"GET / HTTP/1.1\r\nX-Filler: " + b"a" * 70000)
            await self.assert_closed(stream)

    @gen_test
    async def test_closing_the_server_ends_parked_requests(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET /park HTTP/1.1\r\nHost: x\r\n\r\n")
        await self.parked.get()
        await self.server.close_all_connections()
        self.assertEqual(self.server._connections, set())
        await self.assert_closed(stream)

    @gen_test
    async def test_client_leaving_ends_a_parked_request(self) -> None:
        closed: asyncio.Future[None] = asyncio.Future()
        stream = await self.connect()
        await stream.write(b"GET /park HTTP/1.1\r\nHost: x\r\n\r\n")
        request = await self.parked.get()
        assert isinstance(request.connection, HTTP1Connection)
        request.connection.set_close_callback(lambda: closed.set_result(None))
        stream.close()
        await closed
        while self.server._connections:
            await asyncio.sleep(0.01)


class CloseCallbackTest(ServerTestCase):
    def get_handler(self) -> Any:
        def handler(request: HTTPServerRequest) -> None:
            assert isinstance(request.connection, HTTP1Connection)
            request.connection.set_close_callback(lambda: self.closed.set_result(None))
            self.started.set_result(None)  # never answers

        return handler

    @gen_test
    async def test_close_callback_runs_when_client_leaves(self) -> None:
        self.started: asyncio.Future[None] = asyncio.Future()
        self.closed: asyncio.Future[None] = asyncio.Future()
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await self.started
        stream.close()
        await self.closed


class EarlyCloseTest(ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.connection_closed = asyncio.Event()  # binds to the loop on use
        forget_connection = self.server.on_close

        def on_close(server_conn: object) -> None:
            forget_connection(server_conn)
            self.connection_closed.set()

        self.server.on_close = on_close  # type: ignore[method-assign]

    @gen_test
    async def test_client_closing_without_request_is_quiet(self) -> None:
        stream = await self.connect()
        stream.close()
        await self.connection_closed.wait()
        self.assertEqual(self.server._connections, set())

    @gen_test
    async def test_client_closing_mid_head_is_quiet(self) -> None:
        stream = await self.connect()
        await stream.write(b"GET / HTTP/1.1\r\nHo")
        stream.close()
        await self.connection_closed.wait()
        self.assertEqual(self.server._connections, set())


class HTTPClientTest(AsyncHTTPTestCase):
    """The server as seen through the project's own HTTP client."""

    def get_app(self) -> Any:
        return echo

    def get_httpserver_options(self) -> dict[str, Any]:
        return {"max_body_size": 1000, "decompress_request": True}

    def test_get_and_post(self) -> None:
        response = self.fetch("/get?a=1")
        self.assertEqual(response.code, 200)
        self.assertTrue(response.body.startswith(b"GET /get?a=1 HTTP/1.1"))
        response = self.fetch("/post", method="POST", body="k=v")
        self.assertIn(b"body=b'k=v' args=[('k', ['v'])]", response.body)

    def test_gzipped_request_body(self) -> None:
        response = self.fetch(
            "/",
            method="POST",
            body=gzip.compress(b"zipped"),
            headers={"Content-Encoding": "gzip"},
        )
        self.assertIn(b"body=b'zipped'", response.body)

    def test_body_too_large(self) -> None:
        with ExpectLog(gen_log, "Malformed HTTP message", level=logging.INFO):
            response = self.fetch("/", method="POST", body=b"x" * 1001)
        self.assertEqual(response.code, 400)


class ServerLifecycleTest(AsyncTestCase):
    @gen_test
    async def test_close_all_connections(self) -> None:
        sock, port = bind_unused_port()
        server = HTTPServer(echo)
        server.add_sockets([sock])
        streams = []
        for _ in range(3):
            stream = IOStream(socket.socket())
            await stream.connect(("127.0.0.1", port))
            await stream.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await read_response(stream)
            streams.append(stream)
        server.stop()
        await server.close_all_connections()
        for stream in streams:
            self.assertEqual(await stream.read_until_close(), b"")
            stream.close()

    def test_configurable(self) -> None:
        server = HTTPServer(echo, xheaders=True, chunk_size=10)
        self.assertIs(type(server), HTTPServer)
        self.assertIs(HTTPServer.configurable_base(), HTTPServer)
        self.assertIs(HTTPServer.configurable_default(), HTTPServer)
        self.assertTrue(server.xheaders)
        self.assertEqual(server.conn_params.chunk_size, 10)
        self.assertEqual(server.conn_params.header_timeout, 3600)
        self.assertIsNone(server.protocol)

    def test_bad_ssl_options(self) -> None:
        with self.assertRaises(ValueError):
            HTTPServer(echo, ssl_options={"certfile": "/no/such/file.crt"})


if __name__ == "__main__":
    unittest.main()
