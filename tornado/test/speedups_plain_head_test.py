"""The shortcuts of the HTTP/1 server path against the general rules.

``_http1wire.read_request_head`` skips the reading rules (Host check, body
framing, keep-alive, 100-continue) for a head the C parser calls "plain",
and ``_http1wire.format_plain_response`` writes the common response
without planning its framing.  These tests hold both to the general path:
whenever a shortcut answers, it gives exactly what the general functions
give for the same input; errors always come from the general path.
"""

from __future__ import annotations

import socket
import unittest
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import _http1wire, httputil
from tornado._http1wire import (
    NO_BODY,
    check_request_host,
    connection_header,
    expects_continue,
    format_plain_response,
    format_response_head,
    keep_alive_requested,
    plan_response_body,
    read_request_head,
    request_body_framing,
    response_closes_connection,
)
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPHeaders,
    HTTPOutputError,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.test.speedups_head_test import (
    BENCH_REQUEST,
    extras,
    first_lines,
    head_pieces,
    structured_heads,
    summarize,
    tables,
)
from tornado.testing import AsyncHTTPTestCase
from tornado.web import Application

speedups: Any
try:
    from tornado import speedups
except ImportError:
    speedups = None

NOT_BUILT = "tornado.speedups was not built (python setup.py build_ext --inplace)"


def python_rules(data: bytes) -> tuple[str, Any]:
    """The general path's answer for ``data``: its results or its error."""
    try:
        start_line, headers = _http1wire._parse_request_head_python(data)
        check_request_host(start_line, headers)
        results = (
            request_body_framing(headers),
            keep_alive_requested(start_line, headers),
            expects_continue(start_line, headers),
        )
    except Exception as e:
        return "error", (type(e), str(e))
    return "ok", (summarize(start_line, headers), results)


def read_answer(data: bytes) -> tuple[str, Any]:
    try:
        start_line, headers, *results = read_request_head(data)
    except Exception as e:
        return "error", (type(e), str(e))
    return "ok", (summarize(start_line, headers), tuple(results))


# Heads around the headers the shortcut depends on.
framing_names = st.sampled_from(
    [
        "Host",
        "host",
        "HOST",
        "Connection",
        "connection",
        "Content-Length",
        "content-length",
        "Transfer-Encoding",
        "Expect",
        "X-A",
    ]
)
framing_values = st.one_of(
    st.sampled_from(
        [
            "",
            "localhost",
            "127.0.0.1:8888",
            "a.b-c:80",
            "[::1]:80",
            "a_b",
            "a b",
            "a,b",
            "a%20",
            "a:",
            ":80",
            "\xe9",
            "keep-alive",
            "Keep-Alive",
            "KEEP-ALIVE",
            "close",
            "Close",
            "keep-alive, Upgrade",
            "upgrade",
            "0",
            "12",
            "chunked",
            "100-continue",
        ]
    ),
    st.text(alphabet="aZ09.:-_[]% ,\t\xe9", max_size=8),
)


@st.composite
def framing_heads(draw: st.DrawFn) -> bytes:
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/1.9"]))
    method = draw(st.sampled_from(["GET", "HEAD", "POST"]))
    lines = [f"{method} / {version}\r\n"]
    for _ in range(draw(st.integers(0, 5))):
        name = draw(framing_names)
        value = draw(framing_values)
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin1")


@unittest.skipIf(speedups is None, NOT_BUILT)
class PlainRequestHeadTest(unittest.TestCase):
    def c_parse(self, data: bytes) -> Any:
        return speedups.parse_request_head_plain(data, RequestStartLine, HTTPHeaders)

    def assert_plain_flag_holds(self, data: bytes) -> bool | None:
        """Check the C flag and read_request_head on ``data``.

        Returns the flag (None when C left the head to Python).
        """
        expected = python_rules(data)
        self.assertEqual(read_answer(data), expected, repr(data))
        parsed = self.c_parse(data)
        if parsed is None:
            self.assertIsNone(
                speedups.parse_request_head(data, RequestStartLine, HTTPHeaders)
            )
            return None
        start_line, headers, plain = parsed
        self.assertIs(type(plain), bool)
        assert isinstance(plain, bool)
        two = speedups.parse_request_head(data, RequestStartLine, HTTPHeaders)
        self.assertEqual(summarize(start_line, headers), summarize(*two))
        if plain:
            self.assertEqual(expected[0], "ok", repr(data))
            self.assertEqual(expected[1][1], (NO_BODY, True, False), repr(data))
        return plain

    @given(framing_heads())
    @settings(max_examples=300)
    def test_framing_heads(self, data: bytes) -> None:
        self.assert_plain_flag_holds(data)

    @given(structured_heads())
    @settings(max_examples=150)
    def test_structured_heads(self, data: bytes) -> None:
        self.assert_plain_flag_holds(data)

    @given(head_pieces)
    @settings(max_examples=150)
    def test_header_like_pieces(self, data: bytes) -> None:
        self.assert_plain_flag_holds(data)

    @given(st.binary(max_size=200))
    @settings(max_examples=100)
    def test_random_bytes(self, data: bytes) -> None:
        self.assert_plain_flag_holds(data)

    def test_common_heads_are_plain(self) -> None:
        for data in [
            BENCH_REQUEST,
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8888\r\n\r\n",
            b"GET /x?y=1 HTTP/1.1\r\nHost: example.com\r\n"
            b"Connection: keep-alive\r\nAccept: */*\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost:\r\n\r\n",  # empty, as is_host allows
        ]:
            self.assertIs(self.assert_plain_flag_holds(data), True, data)

    def test_other_heads_are_not_plain(self) -> None:
        for data in [
            b"GET / HTTP/1.0\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.9\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a_b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: a\r\nConnection: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\nexpect: nothing\r\n\r\n",
        ]:
            self.assertIn(self.assert_plain_flag_holds(data), (False, None), data)

    def test_bad_arguments(self) -> None:
        with self.assertRaises(TypeError):
            speedups.parse_request_head_plain(BENCH_REQUEST, RequestStartLine)
        with self.assertRaises(TypeError):
            speedups.parse_request_head_plain(BENCH_REQUEST, int, HTTPHeaders)
        self.assertIsNone(
            speedups.parse_request_head_plain("GET", RequestStartLine, HTTPHeaders)
        )


class PythonFallbackTest(unittest.TestCase):
    """Without the C parser, read_request_head runs the rules itself."""

    def test_same_answers_without_c(self) -> None:
        heads = [
            BENCH_REQUEST,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            b"POST / HTTP/1.0\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        ]
        with mock.patch.object(httputil, "_c_parse_request_head_plain", None):
            for data in heads:
                self.assertEqual(read_answer(data), python_rules(data), data)


def general_response(
    request: RequestStartLine,
    start_line: ResponseStartLine,
    headers: HTTPHeaders,
    body: bytes,
) -> tuple[str, Any]:
    """What the general path writes for a whole body, or why it refuses."""
    try:
        framing = plan_response_body(request, start_line.code, headers)
        closes = response_closes_connection(request, framing, headers, False)
        connection = connection_header(request, closes)
        head = format_response_head(start_line, headers, framing, connection)
    except Exception as e:
        return "error", (type(e), str(e))
    return "ok", (framing, closes, head + body)


response_tables = st.dictionaries(
    st.sampled_from(
        ["Content-Length", "Content-Type", "Connection", "Transfer-Encoding", "X-A"]
    ),
    st.one_of(
        st.sampled_from(["0", "5", "05", "13", "", "5 ", "close", "chunked", "x"]),
        st.text(alphabet="05a \r\n\xe9", max_size=4),
        st.lists(st.sampled_from(["5", "0", "a"]), max_size=2),
        st.integers(0, 6),
        st.binary(max_size=3),
    ),
    max_size=4,
)


class PlainResponseTest(unittest.TestCase):
    @given(
        st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
        st.sampled_from(["GET", "HEAD", "POST"]),
        st.sampled_from([200, 201, 100, 101, 199, 204, 304, 404, 99, 0, 599]),
        st.sampled_from(["OK", "", "Not Found", "a\r\nb"]),
        response_tables,
        st.binary(max_size=6),
    )
    @settings(max_examples=400)
    def test_same_bytes_as_the_general_path(
        self,
        version: str,
        method: str,
        code: int,
        reason: str,
        table: dict[str, Any],
        body: bytes,
    ) -> None:
        request = RequestStartLine(method, "/", version)
        start_line = ResponseStartLine("HTTP/1.1", code, reason)
        headers = HTTPHeaders._from_canonical(dict(table))
        expected = general_response(request, start_line, headers, body)
        try:
            data = format_plain_response(request, start_line, headers, body)
        except Exception as e:
            # Only the formatting may raise, as it does on the general path.
            self.assertEqual(("error", (type(e), str(e))), expected)
            return
        if data is None:
            return
        self.assertEqual(expected[0], "ok")
        framing, closes, general = expected[1]
        self.assertEqual(data, general)
        self.assertFalse(closes)
        self.assertEqual(framing.length, len(body))
        self.assertEqual(headers._values, table)  # left unchanged

    def test_common_response_takes_the_shortcut(self) -> None:
        request = RequestStartLine("GET", "/", "HTTP/1.1")
        headers = HTTPHeaders._from_canonical(
            {"Content-Type": "text/plain", "Content-Length": "5"}
        )
        data = format_plain_response(
            request, ResponseStartLine("HTTP/1.1", 200, "OK"), headers, b"hello"
        )
        self.assertEqual(
            data,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 5\r\n\r\nhello",
        )


@unittest.skipIf(speedups is None, NOT_BUILT)
class FormatHeadWithBodyTest(unittest.TestCase):
    """format_head's optional body: the head's bytes, then the body's."""

    @given(first_lines, tables, extras, st.binary(max_size=8))
    @settings(max_examples=200)
    def test_head_then_body(
        self, first_line: str, table: Any, extra: Any, body: bytes
    ) -> None:
        head = speedups.format_head(first_line, table, extra)
        with_body = speedups.format_head(first_line, table, extra, body)
        if head is None:
            self.assertIsNone(with_body)
        else:
            self.assertEqual(with_body, head + body)

    def test_only_exact_bytes(self) -> None:
        for body in [bytearray(b"x"), memoryview(b"x"), "x", None]:
            self.assertIsNone(speedups.format_head("HTTP/1.1 200 OK", {}, {}, body))

    def test_argument_count(self) -> None:
        with self.assertRaises(TypeError):
            speedups.format_head("HTTP/1.1 200 OK", {}, {}, b"", b"")


class WholeBodyOverLoopbackTest(AsyncHTTPTestCase):
    """A response written whole with its head still refuses more body."""

    def get_app(self) -> Application:
        return Application()

    def setUp(self) -> None:
        super().setUp()
        self.errors: list[BaseException] = []

    def get_http_server(self) -> HTTPServer:
        def handle(request: httputil.HTTPServerRequest) -> None:
            connection = request.connection
            assert connection is not None
            headers = HTTPHeaders({"Content-Length": "2"})
            connection.write_headers(
                ResponseStartLine("HTTP/1.1", 200, "OK"), headers, b"ok"
            )
            if request.path == "/more":
                try:
                    connection.write(b"!")
                except HTTPOutputError as e:
                    self.errors.append(e)
                    return
            connection.write(b"")
            connection.finish()

        return HTTPServer(handle, **self.get_httpserver_options())

    def raw_exchange(self, path: str) -> bytes:
        async def exchange() -> bytes:
            sock = socket.create_connection(("127.0.0.1", self.get_http_port()))
            sock.setblocking(False)
            loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
            request = f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n" * 2
            await loop.sock_sendall(sock, request.encode())
            received = b""
            while True:
                piece = await loop.sock_recv(sock, 65536)
                if not piece:
                    break
                received += piece
                if path == "/" and received.count(b"ok") == 2:
                    break
            sock.close()
            return received

        received: bytes = self.io_loop.run_sync(exchange)
        return received

    def test_keep_alive_after_whole_body(self) -> None:
        self.assertEqual(
            self.raw_exchange("/"),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" * 2,
        )

    def test_more_body_refused_and_connection_closed(self) -> None:
        self.assertEqual(
            self.raw_exchange("/more"),
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )
        self.assertEqual(len(self.errors), 1)
        self.assertEqual(
            str(self.errors[0]), "Tried to write more data than Content-Length"
        )


if __name__ == "__main__":
    unittest.main()
