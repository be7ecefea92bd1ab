"""The HTTP server against hostile clients.

* `CorpusTest`: raw requests an attacker would send (framing and smuggling,
  bad chunks, control bytes, folding, odd targets and versions, limits),
  each on its own connection to a real server, with the exact answer
  expected, and a normal request served right after.
* `PropertyTest`: Hypothesis properties over the public parsers: only the
  documented exceptions, whatever the input.
* `SlowClientTest`: hundreds of idle, slowloris and slow-body connections
  are closed on time while the server keeps answering others at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import logging
import resource
import selectors
import socket
import time
import unittest
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import httputil
from tornado.escape import json_decode, url_unescape, xhtml_unescape
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    ResponseStartLine,
)
from tornado.iostream import IOStream, StreamClosedError
from tornado.test.util import RSSPeak, report_figure, skip_without_rss_peak
from tornado.testing import AsyncTestCase, bind_unused_port, gen_test

BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\n\r\n"
MAX_HEADER_SIZE = 200_000
MAX_BODY_SIZE = 1000


def summarize(request: HTTPServerRequest) -> None:
    """Answer with what the server made of the request, as JSON."""
    assert request.connection is not None
    summary = {
        "method": request.method,
        "uri": request.uri,
        "version": request.version,
        "body": request.body.decode("latin1"),
        "args": sum(len(v) for v in request.arguments.values()),
        "cookies": len(request.cookies),
        "headers": len(list(request.headers.get_all())),
    }
    body = json.dumps(summary).encode()
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", 200, "OK"),
        HTTPHeaders({"Content-Length": str(len(body))}),
        body,
    )
    request.connection.finish()


@dataclasses.dataclass
class Bad:
    """The bare 400 answer, then the close; the log names ``message``."""

    message: str = ""


@dataclasses.dataclass
class Closed:
    """No answer: the head is over ``max_header_size``."""


@dataclasses.dataclass
class Ok:
    """A 200 whose summary has these items."""

    summary: dict[str, Any] = dataclasses.field(default_factory=dict)


Expected = Bad | Closed | Ok


def post(headers: bytes, body: bytes = b"") -> bytes:
    return b"POST / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n" + body


def chunked(body: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked\r\n", body)


def get(headers: bytes = b"Host: x\r\n", target: bytes = b"/") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + headers + b"\r\n"


def gzip_bomb(inflated_mib: int) -> bytes:
    """Concatenated gzip members of zeros: about 1 KiB per MiB inflated."""
    member = gzip.compress(b"\0" * (1 << 20))
    return member * inflated_mib


# 100 kB of zeros in a body well within MAX_BODY_SIZE.
SMALL_BOMB = gzip.compress(b"\0" * 100_000)


FRAMING: dict[str, tuple[bytes, Expected]] = {
    "CL and TE": (
        post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
        Bad("Message with both Transfer-Encoding and Content-Length"),
    ),
    "TE and CL": (
        post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"),
        Bad("Message with both Transfer-Encoding and Content-Length"),
    ),
    "two unequal CL": (
        post(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!"),
        Bad("Multiple unequal Content-Lengths: '5,6'"),
    ),
    "listed unequal CL": (
        post(b"Content-Length: 5, 6\r\n", b"hello!"),
        Bad("Multiple unequal Content-Lengths: '5, 6'"),
    ),
    "CL with leading zeros": (
        post(b"Content-Length: 005\r\n", b"hello"),
        Ok({"body": "hello"}),
    ),
    "CL with whitespace around": (
        post(b"Content-Length: \t5 \r\n", b"hello"),
        Ok({"body": "hello"}),
    ),
    "listed equal CL": (
        post(b"Content-Length: 5,5\r\n", b"hello"),
        Ok({"body": "hello"}),
    ),
    "repeated equal CL": (
        post(b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello"),
        Ok({"body": "hello"}),
    ),
    "CL with space before comma": (
        post(b"Content-Length: 5 , 5\r\n", b"hello"),
        Bad("Multiple unequal Content-Lengths: '5 , 5'"),
    ),
    "CL with sign": (
        post(b"Content-Length: +5\r\n", b"hello"),
        Bad("Only integer Content-Length is allowed: +5"),
    ),
    "negative CL": (
        post(b"Content-Length: -1\r\n"),
        Bad("Only integer Content-Length is allowed: -1"),
    ),
    "hex CL": (post(b"Content-Length: 0x5\r\n", b"hello"), Bad()),
    "decimal CL": (post(b"Content-Length: 5.0\r\n", b"hello"), Bad()),
    "empty CL": (post(b"Content-Length:\r\n"), Bad()),
    "CL over the limit": (
        post(b"Content-Length: 99999999999999999999\r\n"),
        Bad("Content-Length too long"),
    ),
    "CL beyond int()": (
        post(b"Content-Length: " + b"9" * 5000 + b"\r\n"),
        Bad("Content-Length too long"),
    ),
    "TE with trailing comma": (
        chunked(b"0\r\n\r\n").replace(b"chunked", b"chunked,"),
        Bad("Unsupported Transfer-Encoding chunked,"),
    ),
    "TE with leading comma": (
        chunked(b"0\r\n\r\n").replace(b"chunked", b",chunked"),
        Bad("Unsupported Transfer-Encoding ,chunked"),
    ),
    "TE with spaced comma": (
        chunked(b"0\r\n\r\n").replace(b"chunked", b"chunked , "),
        Bad("Unsupported Transfer-Encoding chunked ,"),
    ),
    "TE gzip": (
        post(b"Transfer-Encoding: gzip\r\n"),
        Bad("Unsupported Transfer-Encoding gzip"),
    ),
    "TE gzip, chunked": (
        chunked(b"0\r\n\r\n").replace(b"chunked", b"gzip, chunked"),
        Bad(),
    ),
    "TE identity": (post(b"Transfer-Encoding: identity\r\n"), Bad()),
    "TE chunked twice in one": (
        chunked(b"0\r\n\r\n").replace(b"chunked", b"chunked, chunked"),
        Bad(),
    ),
    "TE chunked twice": (
        post(
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            b"0\r\n\r\n",
        ),
        Bad("Unsupported Transfer-Encoding chunked,chunked"),
    ),
    "TE and an empty TE": (
        post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", b"0\r\n\r\n"),
        Bad("Unsupported Transfer-Encoding chunked,"),
    ),
    "TE in capitals": (
        chunked(b"3\r\nabc\r\n0\r\n\r\n").replace(b"chunked", b"CHUNKED"),
        Ok({"body": "abc"}),
    ),
    "TE with space before colon": (
        post(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"),
        Bad("Invalid header name 'Transfer-Encoding '"),
    ),
    "TE with a parameter": (
        chunked(b"0\r\n\r\n").replace(b"chunked", b"chunked;q=1"),
        Bad(),
    ),
}

CHUNKS: dict[str, tuple[bytes, Expected]] = {
    "chunk size 0x": (chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), Bad("invalid chunk size")),
    "negative chunk size": (
        chunked(b"-5\r\nhello\r\n0\r\n\r\n"),
        Bad("invalid chunk size"),
    ),
    "space before chunk size": (
        chunked(b" 5\r\nhello\r\n0\r\n\r\n"),
        Bad("invalid chunk size"),
    ),
    "space after chunk size": (
        chunked(b"5 \r\nhello\r\n0\r\n\r\n"),
        Bad("invalid chunk size"),
    ),
    "empty chunk size": (chunked(b"\r\nhello\r\n0\r\n\r\n"), Bad("invalid chunk size")),
    "huge chunk size": (chunked(b"f" * 40 + b"\r\n"), Bad("chunked body too large")),
    "chunk size line, bare LF": (
        chunked(b"5\nhello\r\n0\r\n\r\n"),
        Bad("invalid chunk size"),
    ),
    "chunk extension": (
        chunked(b'5;a=b;c="d;e"\r\nhello\r\n0;x\r\n\r\n'),
        Ok({"body": "hello"}),
    ),
    "bad chunk extension": (
        chunked(b"5;=b\r\nhello\r\n0\r\n\r\n"),
        Bad("invalid chunk size"),
    ),
    "chunk data too long": (
        chunked(b"3\r\nhello\r\n0\r\n\r\n"),
        Bad("improperly terminated chunk"),
    ),
    "chunk data, bare LF": (
        chunked(b"5\r\nhello\n0\r\n\r\n"),
        Bad("improperly terminated chunk"),
    ),
    "last chunk without CRLF": (
        chunked(b"0\r\nXY\r\n\r\n"),
        Bad("improperly terminated chunked request"),
    ),
    "last chunk, bare LF": (
        chunked(b"0\r\n\nX: 1\r\n\r\n"),
        Bad("improperly terminated chunked request"),
    ),
    "trailers": (
        chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n"),
        Ok({"body": "hello", "headers": 2}),
    ),
    "folded trailer": (
        chunked(b"0\r\nX-T: 1\r\n 2\r\n\r\n"),
        Bad("improperly terminated chunked request"),
    ),
    "chunked body over the limit": (
        chunked(b"3e8\r\n" + b"a" * 1000 + b"\r\n1\r\n"),
        Bad("chunked body too large"),
    ),
}

BYTES: dict[str, tuple[bytes, Expected]] = {
    "bare CR in a value": (
        get(b"Host: x\r\nX: a\rb\r\n"),
        Bad("Invalid header value 'a\\rb'"),
    ),
    "bare CR ending a line": (get(b"Host: x\rX: y\r\n"), Bad()),
    "bare LF line ends": (b"GET / HTTP/1.1\nHost: x\nX: y\n\n", Ok({"headers": 2})),
    "mixed line ends": (b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\n", Ok({"headers": 2})),
    "NUL in a value": (
        get(b"Host: x\r\nX: a\0b\r\n"),
        Bad("Invalid header value 'a\\x00b'"),
    ),
    "NUL in a name": (get(b"Host: x\r\nX\0: b\r\n"), Bad()),
    "NUL in the target": (get(target=b"/a\0b"), Bad()),
    "NUL in the method": (b"GE\0T / HTTP/1.1\r\nHost: x\r\n\r\n", Bad()),
    "control byte in a value": (get(b"Host: x\r\nX: a\x01b\r\n"), Bad()),
    "DEL in a value": (get(b"Host: x\r\nX: a\x7fb\r\n"), Bad()),
    "obs-text in a value": (get(b"Host: x\r\nX: caf\xc3\xa9\r\n"), Ok({"headers": 2})),
    "obs-text in a name": (get(b"Host: x\r\nCaf\xc3\xa9: 1\r\n"), Bad()),
    "escape in the target": (get(target=b"/\x1b[2J"), Bad()),
}

FOLDING: dict[str, tuple[bytes, Expected]] = {
    "folded value": (
        get(b"Host: x\r\nX: a\r\n b\r\n"),
        Bad("header line cannot start with whitespace, folding not supported"),
    ),
    "folded Content-Length": (
        post(b"X-A: 1\r\n\tContent-Length: 5\r\n", b"hello"),
        Bad("header line cannot start with whitespace, folding not supported"),
    ),
    "space before the first header": (get(b" Host: x\r\n"), Bad()),
    "whitespace-only line": (get(b"Host: x\r\n \r\n"), Bad()),
    "space before a colon": (
        get(b"Host: x\r\nX : y\r\n"),
        Bad("Invalid header name 'X '"),
    ),
    "no colon": (
        get(b"Host: x\r\nNoColon\r\n"),
        Bad("no colon in header line 'NoColon'"),
    ),
    "blank values then a bad line": (
        get(b"Host: x\r\n" + b"X:    \r\n" * 2000 + b"Y : z\r\n"),
        Bad("Invalid header name 'Y '"),
    ),
}

TARGETS_AND_VERSIONS: dict[str, tuple[bytes, Expected]] = {
    "absolute form": (
        get(target=b"http://example.com/p?q=1"),
        Ok({"uri": "http://example.com/p?q=1", "args": 1}),
    ),
    "authority form": (
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        Ok({"method": "CONNECT", "uri": "example.com:443"}),
    ),
    "asterisk form": (
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        Ok({"method": "OPTIONS", "uri": "*"}),
    ),
    "space in the target": (get(target=b"/a b"), Bad()),
    "no target": (b"GET  HTTP/1.1\r\nHost: x\r\n\r\n", Bad()),
    "tabs for spaces": (b"GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n", Bad()),
    "trailing space": (
        b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        Bad("Malformed HTTP request line 'GET / HTTP/1.1 '"),
    ),
    "HTTP/0.9": (b"GET /\r\n\r\n", Bad("Malformed HTTP request line 'GET /'")),
    "HTTP/2.0": (
        get().replace(b"HTTP/1.1", b"HTTP/2.0"),
        Bad("Unexpected HTTP version 'HTTP/2.0'"),
    ),
    "HTTP/2 preface": (
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        Bad("Unexpected HTTP version 'HTTP/2.0'"),
    ),
    "HTTP/1.10": (get().replace(b"HTTP/1.1", b"HTTP/1.10"), Bad()),
    "lowercase version": (get().replace(b"HTTP/1.1", b"http/1.1"), Bad()),
    "HTTP/1.0 without Host": (b"GET / HTTP/1.0\r\n\r\n", Ok({"version": "HTTP/1.0"})),
    "long method": (
        b"X" * 1000 + b" / HTTP/1.1\r\nHost: x\r\n\r\n",
        Ok({"method": "X" * 1000}),
    ),
    "lowercase method": (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", Ok({"method": "get"})),
    "non-token method": (b"GE(T / HTTP/1.1\r\nHost: x\r\n\r\n", Bad()),
    "one empty line first": (b"\r\n" + get(), Ok({"method": "GET"})),
    "stray empty line": (
        b"GET / HTTP/1.1\r\n\r\nHost: x\r\n\r\n",
        Bad("Missing Host header"),
    ),
}

HOSTS: dict[str, tuple[bytes, Expected]] = {
    "no Host": (get(b""), Bad("Missing Host header")),
    "two Hosts": (get(b"Host: a\r\nHost: b\r\n"), Bad("Multiple Host headers")),
    "Host with comma": (get(b"Host: a,b\r\n"), Bad("Invalid Host header 'a,b'")),
    "Host with percent": (get(b"Host: a%2eb\r\n"), Bad()),
    "Host with space": (get(b"Host: a b\r\n"), Bad()),
    "Host with slash": (get(b"Host: a/b\r\n"), Bad()),
    "empty Host": (get(b"Host:\r\n"), Ok()),
    "IPv6 Host": (get(b"Host: [::1]:8080\r\n"), Ok()),
}

LIMITS: dict[str, tuple[bytes, Expected]] = {
    "head over max_header_size": (
        get(b"Host: x\r\nX: " + b"a" * MAX_HEADER_SIZE + b"\r\n"),
        Closed(),
    ),
    "unterminated head": (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEADER_SIZE, Closed()),
    "many headers": (
        get(b"Host: x\r\n" + b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(3000))),
        Ok({"headers": 3001}),
    ),
    "body over max_body_size": (
        post(b"Content-Length: %d\r\n" % (MAX_BODY_SIZE + 1)),
        Bad("Content-Length too long"),
    ),
    "streamed body over max_body_size": (
        chunked(b"%x\r\n%s\r\n" % (MAX_BODY_SIZE, b"a" * MAX_BODY_SIZE) + b"1\r\n"),
        Bad("chunked body too large"),
    ),
    "gzip bomb": (
        post(
            b"Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(SMALL_BOMB),
            SMALL_BOMB,
        ),
        Bad("decompressed body too large"),
    ),
    "truncated gzip": (
        post(
            b"Content-Encoding: gzip\r\nContent-Length: 10\r\n",
            gzip.compress(b"x")[:10],
        ),
        Bad(
            "invalid gzip data: Error -5 while decompressing data: incomplete or truncated stream"
        ),
    ),
    "10,000 cookies": (
        get(
            b"Host: x\r\nCookie: "
            + b"; ".join(b"c%d=v" % i for i in range(10_000))
            + b"\r\n"
        ),
        Ok({"cookies": 10_000}),
    ),
    "1,000 query arguments": (
        get(target=b"/?" + b"&".join(b"a=%d" % i for i in range(1000))),
        Ok({"args": 1000}),
    ),
    "1,001 query arguments": (
        get(target=b"/?" + b"&".join(b"a=%d" % i for i in range(1001))),
        Bad("Invalid query string: Max number of fields exceeded"),
    ),
    "malformed multipart": (
        post(
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 13\r\n",
            b"--b\r\nbad\r\n--b--",
        ),
        Bad(),
    ),
    "multipart look-alike": (
        post(
            b"Content-Type: multipart/form-dataxyz; boundary=b\r\nContent-Length: 5\r\n",
            b"--b--",
        ),
        Ok({"body": "--b--", "args": 0}),
    ),
}

CORPUS = {
    **FRAMING,
    **CHUNKS,
    **BYTES,
    **FOLDING,
    **TARGETS_AND_VERSIONS,
    **HOSTS,
    **LIMITS,
}


async def read_summary(stream: IOStream) -> dict[str, Any]:
    head = await stream.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
    length = int(
        HTTPHeaders.parse(head.decode("latin1").partition("\r\n")[2])["Content-Length"]
    )
    return json_decode(await stream.read_bytes(length))  # type: ignore[no-any-return]


class CorpusTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        sock, self.port = bind_unused_port()
        self.server = HTTPServer(
            summarize,
            max_header_size=MAX_HEADER_SIZE,
            max_body_size=MAX_BODY_SIZE,
            decompress_request=True,
        )
        self.server.add_sockets([sock])

    def tearDown(self) -> None:
        self.server.stop()
        self.io_loop.run_sync(self.server.close_all_connections)
        super().tearDown()

    async def connect(self) -> IOStream:
        stream = IOStream(socket.socket())
        self.addCleanup(stream.close)
        await stream.connect(("127.0.0.1", self.port))
        return stream

    async def check(self, request: bytes, expected: Expected) -> None:
        stream = await self.connect()
        if isinstance(expected, Ok):
            await stream.write(request)
            summary = await read_summary(stream)
            for key, value in expected.summary.items():
                self.assertEqual(summary[key], value, key)
            return
        with self.assertLogs("tornado.general", logging.INFO) as logs:
            answer = await self.send_and_read_all(stream, request)
        self.assertEqual(len(logs.records), 1, logs.output)
        message = logs.records[0].getMessage()
        if isinstance(expected, Closed):
            self.assertEqual(answer, b"")
            self.assertRegex(message, "^Unsatisfiable read, closing connection: ")
        else:
            self.assertEqual(answer, BAD_REQUEST)
            prefix = "Malformed HTTP message from 127.0.0.1: "
            self.assertTrue(message.startswith(prefix), message)
            if expected.message:
                self.assertEqual(message[len(prefix) :], expected.message)

    async def send_and_read_all(self, stream: IOStream, request: bytes) -> bytes:
        """What the server sends before closing.

        A server closing with part of a large request unread resets the
        connection; the reset may reach the client before it is done
        sending.  Nothing was answered then.
        """
        try:
            await stream.write(request)
            return await stream.read_until_close()
        except StreamClosedError as e:
            self.assertIsInstance(e.real_error, ConnectionError)
            return b""

    async def check_still_serving(self) -> None:
        stream = await self.connect()
        await stream.write(get(target=b"/after"))
        self.assertEqual((await read_summary(stream))["uri"], "/after")

    async def run_corpus(self, corpus: dict[str, tuple[bytes, Expected]]) -> None:
        for name, (request, expected) in corpus.items():
            with self.subTest(name):
                await self.check(request, expected)
                await self.check_still_serving()

    @gen_test
    async def test_framing_and_smuggling(self) -> None:
        await self.run_corpus(FRAMING)

    @gen_test
    async def test_chunks(self) -> None:
        await self.run_corpus(CHUNKS)

    @gen_test
    async def test_bytes(self) -> None:
        await self.run_corpus(BYTES)

    @gen_test
    async def test_folding(self) -> None:
        await self.run_corpus(FOLDING)

    @gen_test
    async def test_targets_and_versions(self) -> None:
        await self.run_corpus(TARGETS_AND_VERSIONS)

    @gen_test
    async def test_hosts(self) -> None:
        await self.run_corpus(HOSTS)

    @gen_test
    async def test_limits(self) -> None:
        await self.run_corpus(LIMITS)

    @gen_test
    async def test_pipelining(self) -> None:
        stream = await self.connect()
        await stream.write(
            get(target=b"/1")
            + post(b"Content-Length: 2\r\n", b"ab")
            + get(target=b"/3")
        )
        summaries = [await read_summary(stream) for _ in range(3)]
        self.assertEqual([s["uri"] for s in summaries], ["/1", "/", "/3"])
        self.assertEqual(summaries[1]["body"], "ab")

    @gen_test
    async def test_pipelined_bad_request_ends_the_connection(self) -> None:
        stream = await self.connect()
        with self.assertLogs("tornado.general", logging.INFO) as logs:
            await stream.write(get(target=b"/1") + b"GET /\r\n\r\n" + get(target=b"/3"))
            self.assertEqual((await read_summary(stream))["uri"], "/1")
            self.assertEqual(await stream.read_until_close(), BAD_REQUEST)
        self.assertEqual(len(logs.records), 1)

    @gen_test
    async def test_smuggled_request_is_not_served(self) -> None:
        # A front end that drops the folded line would forward the body as
        # a second request; this server refuses the whole message instead.
        smuggled = get(target=b"/smuggled")
        stream = await self.connect()
        with self.assertLogs("tornado.general", logging.INFO):
            await stream.write(
                post(b"X-A: 1\r\n\tContent-Length: %d\r\n" % len(smuggled), smuggled)
            )
            self.assertEqual(await stream.read_until_close(), BAD_REQUEST)

    def test_corpus_size(self) -> None:
        # Documented in the release notes; keep them in step.
        self.assertGreaterEqual(len(CORPUS), 100)


# Hypothesis properties: the documented exceptions only.

# Text like what arrives on the wire: HTTP's own punctuation, controls and
# non-ASCII characters, with the occasional long run.
wire_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(
            list(" \t\r\n:;,=\"'\\%&+?#/-_.()[]@!\x00\x7f\x80\xff\u00e9\u20ac")
        ),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    ),
    max_size=80,
)
wire_bytes = wire_text.map(lambda text: text.encode("utf-8", "surrogatepass"))
header_lines = st.lists(
    st.tuples(
        st.text(alphabet=st.sampled_from(list("aZ-_:! \t\x00\u00e9")), max_size=8),
        wire_text,
    ),
    max_size=8,
).map(lambda pairs: "".join(f"{n}:{v}\r\n" for n, v in pairs))
# Deeper than the suite's profile (tornado/test/__init__.py), which sets
# everything else: these parsers face hostile input.
EXAMPLES = 300
property_settings = settings(max_examples=EXAMPLES)


class PropertyTest(unittest.TestCase):
    @property_settings
    @given(st.one_of(wire_text, header_lines))
    def test_headers_parse(self, text: str) -> None:
        try:
            headers = HTTPHeaders.parse(text)
        except HTTPInputError:
            return
        reparsed = HTTPHeaders.parse(str(headers))
        self.assertEqual(list(reparsed.get_all()), list(headers.get_all()))

    @property_settings
    @given(wire_text)
    def test_request_start_line(self, text: str) -> None:
        try:
            line = httputil.parse_request_start_line(text)
        except HTTPInputError:
            return
        self.assertEqual(" ".join(line), text)

    @property_settings
    @given(wire_text.map(lambda t: "HTTP/1.1 " + t))
    def test_response_start_line(self, text: str) -> None:
        try:
            line = httputil.parse_response_start_line(text)
        except HTTPInputError:
            return
        self.assertTrue(100 <= line.code <= 999 or 0 <= line.code < 100)

    @property_settings
    @given(
        st.sampled_from(
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=b",
                'multipart/form-data; boundary="b"',
                "multipart/form-data",
                "text/plain",
            ]
        ),
        st.one_of(
            wire_bytes,
            st.lists(wire_bytes, max_size=4).map(
                lambda parts: b"--b\r\n".join(parts) + b"--b--"
            ),
        ),
    )
    def test_body_arguments(self, content_type: str, body: bytes) -> None:
        arguments: dict[str, list[bytes]] = {}
        files: dict[str, list[httputil.HTTPFile]] = {}
        try:
            httputil.parse_body_arguments(content_type, body, arguments, files)
        except HTTPInputError:
            return
        for values in arguments.values():
            self.assertTrue(all(isinstance(v, bytes) for v in values))

    @property_settings
    @given(wire_bytes, st.lists(wire_bytes, max_size=4))
    def test_multipart(self, boundary: bytes, parts: list[bytes]) -> None:
        boundary = boundary or b"b"
        separator = b"--" + boundary + b"\r\n"
        data = separator + separator.join(parts) + b"--" + boundary + b"--"
        try:
            httputil.parse_multipart_form_data(boundary, data, {}, {})
        except HTTPInputError:
            pass

    @property_settings
    @given(wire_text)
    def test_cookie(self, text: str) -> None:
        for name in httputil.parse_cookie(text):
            self.assertNotIn(";", name)

    @property_settings
    @given(
        wire_text.map(lambda t: "http://example.com/" + t),
        st.lists(st.tuples(wire_text, wire_text), max_size=4),
    )
    def test_url_concat(self, url: str, args: list[tuple[str, str]]) -> None:
        try:
            result = httputil.url_concat(url, args)
        except ValueError:  # a URL urllib cannot split
            return
        self.assertTrue(result.startswith("http://"))

    @property_settings
    @given(st.one_of(wire_text, wire_bytes), st.booleans())
    def test_url_unescape(self, value: str | bytes, plus: bool) -> None:
        self.assertIsInstance(url_unescape(value, plus=plus), str)
        self.assertIsInstance(url_unescape(value, encoding=None, plus=plus), bytes)

    @property_settings
    @given(st.one_of(wire_text, wire_bytes))
    def test_json_decode(self, value: str | bytes) -> None:
        try:
            json_decode(value)
        except ValueError:  # including json.JSONDecodeError, UnicodeDecodeError
            pass

    @property_settings
    @given(wire_text.map(lambda t: t.replace("&", "&#").replace(";", "&amp;")))
    def test_xhtml_unescape(self, text: str) -> None:
        self.assertIsInstance(xhtml_unescape(text), str)
        self.assertIsInstance(xhtml_unescape(text.encode()), str)


# Slow clients.

CONNECTIONS = 500
TIMEOUT = 0.5


def selector_limits_descriptors() -> bool:
    """Whether the loop's selector is select(2), limited to 1024 descriptors."""
    loop = asyncio.get_running_loop()
    return isinstance(getattr(loop, "_selector", None), selectors.SelectSelector)


class GzipBombTest(AsyncTestCase):
    @skip_without_rss_peak
    @gen_test(timeout=30)
    async def test_gigabyte_bomb_costs_bounded_memory(self) -> None:
        inflated = 0

        class Discard(HTTPMessageDelegate):
            def data_received(self, chunk: bytes) -> None:
                nonlocal inflated
                inflated += len(chunk)

        class Server(HTTPServerConnectionDelegate):
            def start_request(self, server_conn: object, request_conn: Any) -> Any:
                return Discard()

        bomb = gzip_bomb(1024)  # 1 GiB inflated, about 1 MB sent
        limit = (1 << 30) - 1  # all of it inflated but the last byte
        sock, port = bind_unused_port()
        server = HTTPServer(Server(), decompress_request=True, max_body_size=limit)
        server.add_sockets([sock])
        self.addCleanup(server.stop)
        stream = IOStream(socket.socket())
        self.addCleanup(stream.close)
        await stream.connect(("127.0.0.1", port))
        request = post(
            b"Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(bomb), bomb
        )
        with RSSPeak() as peak:
            with self.assertLogs("tornado.general", logging.INFO) as logs:
                await stream.write(request)
                self.assertEqual(await stream.read_until_close(), BAD_REQUEST)
        self.assertEqual(
            [r.getMessage() for r in logs.records],
            ["Malformed HTTP message from 127.0.0.1: decompressed body too large"],
        )
        # Inflated up to the limit, a chunk_size piece at a time.
        self.assertLessEqual(inflated, limit)
        self.assertGreater(inflated, limit - 65536)
        self.assertLess(peak.growth, 16 << 20)
        report_figure("gzip bomb (server), peak RSS growth", peak.growth)
        await server.close_all_connections()


class SlowClientTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        # Every connection takes two descriptors (both ends are here).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 4 * CONNECTIONS + 256
        if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        sock, self.port = bind_unused_port()
        self.server = HTTPServer(
            summarize, idle_connection_timeout=TIMEOUT, body_timeout=TIMEOUT
        )
        self.server.add_sockets([sock])

    def tearDown(self) -> None:
        self.server.stop()
        self.io_loop.run_sync(self.server.close_all_connections)
        super().tearDown()

    async def connect(self) -> IOStream:
        stream = IOStream(socket.socket())
        self.addCleanup(stream.close)
        await stream.connect(("127.0.0.1", self.port))
        return stream

    async def probe(self) -> float:
        """Seconds a normal request takes (the best of three)."""
        times = []
        for _ in range(3):
            start = time.monotonic()
            stream = await self.connect()
            await stream.write(get(target=b"/probe"))
            await read_summary(stream)
            stream.close()
            times.append(time.monotonic() - start)
        return min(times)

    async def slow_client(self, stream: IOStream, first: bytes, more: bytes) -> float:
        """Send ``first``, then ``more`` now and then, until the server closes.

        Returns the seconds from the start to the close.
        """
        start = time.monotonic()
        closed = asyncio.ensure_future(stream.read_until_close())
        try:
            if first:
                await stream.write(first)
            for _ in range(100):  # bounded: the server closes long before
                if not more:
                    break
                await asyncio.wait([closed], timeout=TIMEOUT / 5)
                if closed.done():
                    break
                await stream.write(more)
            await closed
        except StreamClosedError:
            pass  # a reset, when the server closes with data unread
        return time.monotonic() - start

    def clients(self) -> list[tuple[bytes, bytes]]:
        """What each kind of slow client sends first, then again and again."""
        return [
            (b"", b""),  # idle
            (b"GET / HTTP/1.1\r\nHost: x\r\n", b"X-Slow: loris\r\n"),
            (post(b"Content-Length: 100\r\n", b"a"), b"a"),  # slow body
        ]

    @gen_test(timeout=60)
    async def test_slow_clients_are_closed_on_time(self) -> None:
        count = CONNECTIONS
        if selector_limits_descriptors():
            count = 150  # select(2) handles descriptors below 1024 only
        kinds = self.clients()
        with self.assertLogs("tornado.general", logging.INFO) as logs:
            tasks = []
            for i in range(count):
                first, more = kinds[i % len(kinds)]
                stream = await self.connect()
                tasks.append(
                    asyncio.ensure_future(self.slow_client(stream, first, more))
                )
            self.assertLess(await self.probe(), 0.2)
            lifetimes = await asyncio.gather(*tasks)
            report_figure("slow clients", len(lifetimes))
            report_figure("slow client lifetimes, min", min(lifetimes))
            report_figure("slow client lifetimes, max", max(lifetimes))
        # Each was closed once its time was up, not much later.
        self.assertGreater(min(lifetimes), TIMEOUT / 2)
        self.assertLess(max(lifetimes), TIMEOUT + 5)
        messages = [record.getMessage() for record in logs.records]
        self.assertTrue(
            all(m.startswith("Timeout reading body from ") for m in messages)
        )
        self.assertLessEqual(len(messages), len(range(2, count, 3)))
        await self.check_still_serving()

    async def check_still_serving(self) -> None:
        self.assertLess(await self.probe(), 0.2)


if __name__ == "__main__":
    unittest.main()
