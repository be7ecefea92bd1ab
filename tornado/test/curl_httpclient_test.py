"""Tests specific to tornado.curl_httpclient (shared ones are in httpclient_test)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import unittest
from typing import Any

from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse
from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.test.httpclient_test import (
    GZIP_PAYLOAD,
    ClientTestCase,
    Handler,
    LoopbackServer,
    RawServer,
    echo,
)
from tornado.test.util import ScriptedServer, env_with_package, respond
from tornado.testing import ExpectLog, gen_test
from tornado.util import GzipDecompressor

try:
    import pycurl
except ImportError:
    pycurl = None  # type: ignore[assignment]

if pycurl is not None:
    from tornado.curl_httpclient import (
        CR_OR_LF_RE,
        CurlAsyncHTTPClient,
        CurlError,
        curl_log,
    )

DIGEST_REALM = "test realm"
DIGEST_NONCE = "0123456789abcdef"
DIGEST_USER, DIGEST_PASSWORD = "foo", "bar"
_DIGEST_PARAM_RE = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


async def digest(request: HTTPServerRequest) -> None:
    """Require HTTP digest authentication (RFC 7616, qop=auth, MD5)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Digest "):
        challenge = f'Digest realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}", qop="auth"'
        respond(request, code=401, headers={"WWW-Authenticate": challenge})
        return
    params = {
        k: quoted or bare for k, quoted, bare in _DIGEST_PARAM_RE.findall(header[7:])
    }
    ha1 = _md5(f"{DIGEST_USER}:{DIGEST_REALM}:{DIGEST_PASSWORD}")
    ha2 = _md5(f"{request.method}:{params['uri']}")
    expected = _md5(
        f"{ha1}:{DIGEST_NONCE}:{params['nc']}:{params['cnonce']}:auth:{ha2}"
    )
    if params.get("response") == expected and params.get("username") == DIGEST_USER:
        respond(request, "ok")
    else:
        respond(request, "bad digest", code=403)


async def proxy(request: HTTPServerRequest) -> None:
    """Pretend to be a forward proxy: describe the request it received."""
    if (request.uri or "").startswith("http://"):
        await echo(request)
    else:
        respond(request, "not a proxy request", code=400)


async def proxy_digest(request: HTTPServerRequest) -> None:
    if "Proxy-Authorization" not in request.headers:
        challenge = f'Digest realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}"'
        respond(request, code=407, headers={"Proxy-Authenticate": challenge})
    else:
        await echo(request)


def _decodes_gzip_members() -> bool:
    """Whether `.GzipDecompressor` decodes multi-member streams (issue 12).

    Until it does, concatenated members and trailing data cannot be told
    apart from one complete member.
    """
    decompressor = GzipDecompressor()
    data = gzip.compress(b"a") + gzip.compress(b"b")
    output = b""
    while data:
        output += decompressor.decompress(data, 100)
        data = decompressor.unconsumed_tail
    return output == b"ab"


skip_without_member_decoding = unittest.skipUnless(
    _decodes_gzip_members(),
    "needs the multi-member tornado.util.GzipDecompressor (issue 12 item 12)",
)


class Streamer(ScriptedServer):
    """Sends a response of the given pieces without Content-Length.

    The body ends when the connection closes; ``pause`` seconds pass between
    pieces.
    """

    def __init__(self, pieces: list[bytes], pause: float = 0) -> None:
        super().__init__()
        self.pieces = pieces
        self.pause = pause

    async def serve(self, stream: IOStream) -> None:
        await stream.read_until(b"\r\n\r\n")
        await stream.write(b"HTTP/1.0 200 OK\r\n\r\n")
        for piece in self.pieces:
            await stream.write(piece)
            if self.pause:
                await asyncio.sleep(self.pause)
        stream.close()


@unittest.skipIf(pycurl is None, "pycurl is not installed")
class StreamedBombTest(unittest.TestCase):
    """Peak memory of a streamed "bomb" (see ``tornado.test.curl_bomb``)."""

    MEBIBYTES = 64  # four times the bound, so holding it all would show

    def measure(self, encoding: str) -> dict[str, int]:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tornado.test.curl_bomb",
                encoding,
                str(self.MEBIBYTES),
            ],
            capture_output=True,
            env=env_with_package(),
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        self.assertEqual(result.stderr, b"")
        outcome: dict[str, int] = json.loads(result.stdout)
        return outcome

    def test_gzip_bomb(self) -> None:
        outcome = self.measure("gzip")
        self.assertEqual(outcome["received"], self.MEBIBYTES * 1024 * 1024)
        self.assertLess(outcome["growth_kib"], 16 * 1024)

    def test_brotli_bomb(self) -> None:
        try:
            import brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
        except ImportError:
            self.skipTest("the brotli package (to make the bomb) is not installed")
        # Only gzip is asked for and decoded: a brotli body is passed on as
        # it came, which costs nothing however large it would inflate.
        outcome = self.measure("br")
        self.assertLess(outcome["received"], 64 * 1024)
        self.assertLess(outcome["growth_kib"], 16 * 1024)


@unittest.skipIf(pycurl is None, "pycurl is not installed")
class CurlHTTPClientTest(ClientTestCase):
    def setUp(self) -> None:
        self.client_class = CurlAsyncHTTPClient
        super().setUp()

    def get_handlers(self) -> dict[str, Handler]:
        handlers = super().get_handlers()
        handlers["/digest"] = digest
        return handlers

    def create_curl(self, **kwargs: Any) -> CurlAsyncHTTPClient:
        return self.create_closing_client(CurlAsyncHTTPClient, **kwargs)

    def start_proxy(self, handler: Handler = proxy) -> LoopbackServer:
        return self.add_server(LoopbackServer({"*": handler}))

    # Errors

    @gen_test
    async def test_curl_error(self) -> None:
        with self.assertRaises(CurlError) as cm:
            await self.fetch("/hang", request_timeout=0.1)
        error = cm.exception
        self.assertEqual(error.code, 599)
        self.assertEqual(error.errno, pycurl.E_OPERATION_TIMEDOUT)
        self.assertTrue(str(error).startswith("HTTP 599: "))

    def test_curl_error_constructor(self) -> None:
        error = CurlError(7, "Couldn't connect")
        self.assertEqual(
            (error.code, error.errno, error.message), (599, 7, "Couldn't connect")
        )
        self.assertIsInstance(error, HTTPClientError)

    @gen_test
    async def test_connection_refused_errno(self) -> None:
        with self.assertRaises(CurlError) as cm:
            await self.http_client.fetch("http://127.0.0.1:1/")
        self.assertEqual(cm.exception.errno, pycurl.E_COULDNT_CONNECT)

    @gen_test
    async def test_unsupported_scheme(self) -> None:
        with self.assertRaises(CurlError) as cm:
            await self.http_client.fetch("ftp://127.0.0.1/file")
        self.assertEqual(cm.exception.errno, pycurl.E_UNSUPPORTED_PROTOCOL)

    @gen_test
    async def test_unknown_method(self) -> None:
        with self.assertRaisesRegex(KeyError, "unknown method FOO"):
            await self.fetch("/echo", method="FOO")

    @gen_test
    async def test_get_with_body(self) -> None:
        with self.assertRaisesRegex(ValueError, "Body must be None for GET"):
            await self.fetch("/echo", body=b"x", allow_nonstandard_methods=True)

    @gen_test
    async def test_unsupported_options(self) -> None:
        with self.assertRaisesRegex(ValueError, "ssl_options not supported"):
            await self.fetch("/hello", ssl_options={})
        with self.assertRaisesRegex(ValueError, "body_producer"):
            await self.fetch("/echo", method="POST", body_producer=lambda write: None)

    @gen_test
    async def test_cr_lf_in_header_rejected(self) -> None:
        for value in ("foo\r\nX-Injected: 1", "foo\nbar", "foo\rbar"):
            with self.assertRaisesRegex(ValueError, "Illegal characters in header"):
                await self.fetch("/echo", headers={"X-Test": value})
        self.assertEqual(len(self.server.requests), 0)
        self.assertIsNotNone(CR_OR_LF_RE.search(b"a\nb"))
        self.assertIsNone(CR_OR_LF_RE.search(b"a b"))

    @gen_test
    async def test_max_body_size(self) -> None:
        client = self.create_curl(max_body_size=5)
        with self.assertRaises(CurlError) as cm:
            await client.fetch(self.url("/hello"))
        self.assertEqual(cm.exception.errno, pycurl.E_FILESIZE_EXCEEDED)
        self.assertEqual(cm.exception.message, "body exceeded max_body_size of 5 bytes")
        self.assertEqual(client.max_body_size, 5)

    @gen_test
    async def test_max_body_size_and_head(self) -> None:
        client = self.create_curl(max_body_size=5)
        # The length describes the body a GET would get; none comes.
        response = await client.fetch(self.url("/hello"), method="HEAD")
        self.assertEqual(response.headers["Content-Length"], "12")

    @gen_test
    async def test_max_body_size_of_streamed_body(self) -> None:
        client = self.create_curl(max_body_size=5000)
        server = self.add_server(Streamer([b"x" * 1000] * 8))  # no Content-Length
        received: list[bytes] = []
        with self.assertRaises(CurlError) as cm:
            await client.fetch(server.url(), streaming_callback=received.append)
        self.assertEqual(
            cm.exception.message, "body exceeded max_body_size of 5000 bytes"
        )
        self.assertLessEqual(sum(map(len, received)), 5000)

    # Request headers

    @gen_test
    async def test_header_values_as_utf8_bytes(self) -> None:
        snowman = "\N{SNOWMAN}".encode()
        for headers in (
            {"X-Snowman": snowman},
            HTTPHeaders({"X-Snowman": snowman}),
        ):
            request = HTTPRequest(self.url("/echo"), headers=headers)  # type: ignore[arg-type]
            response = await self.http_client.fetch(request)
            received = self.server.requests[-1].headers["X-Snowman"]
            self.assertEqual(received.encode("latin1"), snowman)
            self.assertEqual(response.code, 200)

    # Streaming

    @gen_test
    async def test_async_streaming_callback_refused(self) -> None:
        async def consume(chunk: bytes) -> None:
            pass

        with self.assertRaises(TypeError) as cm:
            await self.fetch("/hello", streaming_callback=consume)
        self.assertEqual(
            str(cm.exception),
            "'CurlAsyncHTTPClient' does not support async streaming_callbacks.",
        )

    @gen_test
    async def test_streamed_body_paused_and_resumed(self) -> None:
        # Far more than the backlog that pauses the transfer, incompressible.
        data = os.urandom(8 * 1024 * 1024)
        server = self.add_server(
            Streamer([data[i : i + 65536] for i in range(0, len(data), 65536)])
        )
        received: list[bytes] = []
        response = await self.http_client.fetch(
            server.url(), streaming_callback=received.append
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(
            hashlib.sha256(b"".join(received)).digest(), hashlib.sha256(data).digest()
        )
        self.assertEqual(response.body, b"")

    @gen_test
    async def test_streaming_callback_error_stops_the_transfer(self) -> None:
        server = self.add_server(Streamer([b"x" * 1000] * 1000, pause=0.01))

        def fail(chunk: bytes) -> None:
            raise ZeroDivisionError("callback failed")

        start = self.io_loop.time()
        with self.assertRaisesRegex(ZeroDivisionError, "callback failed"):
            await self.http_client.fetch(server.url(), streaming_callback=fail)
        await server.closed.wait()  # the client hung up
        self.assertLess(self.io_loop.time() - start, 5)
        self.assertEqual((await self.fetch("/hello")).code, 200)

    # Gzip bodies, decoded by the client itself

    async def fetch_gzip(self, body: bytes, **kwargs: Any) -> HTTPResponse:
        server = self.add_server(
            RawServer(
                b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
        )
        return await self.http_client.fetch(server.url(), **kwargs)

    @gen_test
    async def test_gzip_body_decoded(self) -> None:
        response = await self.fetch_gzip(gzip.compress(b"plain text"))
        self.assertEqual(response.body, b"plain text")
        self.assertEqual(response.headers["X-Consumed-Content-Encoding"], "gzip")
        self.assertNotIn("Content-Encoding", response.headers)
        response = await self.fetch("/gzip")
        self.assertEqual(response.body, GZIP_PAYLOAD)
        self.assertEqual(self.server.requests[-1].headers["Accept-Encoding"], "gzip")

    @gen_test
    async def test_gzip_body_not_decoded_when_not_asked(self) -> None:
        body = gzip.compress(b"plain text")
        response = await self.fetch_gzip(body, decompress_response=False)
        self.assertEqual(response.body, body)
        self.assertEqual(response.headers["Content-Encoding"], "gzip")

    @gen_test
    async def test_decompressed_body_too_large(self) -> None:
        client = self.create_curl(max_body_size=100000)
        body = gzip.compress(bytes(1000000))
        for kwargs in ({}, {"streaming_callback": lambda chunk: None}):
            server = self.add_server(
                RawServer(
                    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
            )
            with self.assertRaises(CurlError) as cm:
                await client.fetch(server.url(), **kwargs)  # type: ignore[arg-type]
            self.assertEqual(cm.exception.code, 599)
            self.assertEqual(cm.exception.message, "decompressed body too large")

    @skip_without_member_decoding
    @gen_test
    async def test_concatenated_gzip_members(self) -> None:
        response = await self.fetch_gzip(
            gzip.compress(b"one, ") + gzip.compress(b"two")
        )
        self.assertEqual(response.body, b"one, two")

    @skip_without_member_decoding
    @gen_test
    async def test_invalid_gzip_bodies(self) -> None:
        good = gzip.compress(b"x" * 1000)
        for label, body in (
            ("truncated", good[:-10]),
            ("trailing garbage", good + b"garbage!"),
            ("trailing NULs", good + bytes(4)),
            ("not gzip at all", b"plain text, no gzip"),
        ):
            with self.assertRaises(CurlError, msg=label) as cm:
                await self.fetch_gzip(body)
            self.assertTrue(
                cm.exception.message.startswith("invalid gzip data: "),
                f"{label}: {cm.exception.message}",
            )

    # Redirects, followed by the client itself

    @gen_test
    async def test_too_many_redirects(self) -> None:
        with self.assertRaises(CurlError) as cm:
            await self.fetch("/countdown/5", max_redirects=3)
        self.assertEqual(cm.exception.errno, pycurl.E_TOO_MANY_REDIRECTS)
        self.assertEqual(cm.exception.message, "Maximum (3) redirects followed")
        response = await self.fetch(
            "/countdown/2", follow_redirects=False, raise_error=False
        )
        self.assertEqual(response.code, 302)

    @gen_test
    async def test_redirect_response_details(self) -> None:
        lines: list[str] = []
        chunks: list[bytes] = []
        response = await self.fetch(
            "/countdown/2",
            header_callback=lines.append,
            streaming_callback=chunks.append,
        )
        self.assertEqual(response.effective_url, self.url("/countdown/0"))
        self.assertEqual(response.request.url, self.url("/countdown/2"))
        self.assertEqual(b"".join(chunks), b"Zero")  # no redirect bodies
        self.assertEqual(sum(line.startswith("HTTP/") for line in lines), 3)

    # Malformed responses

    async def fetch_raw(self, response: bytes) -> HTTPResponse:
        server = self.add_server(RawServer(response))
        return await self.http_client.fetch(server.url())

    @gen_test
    async def test_invalid_header_value(self) -> None:
        with self.assertRaisesRegex(CurlError, "Invalid header value") as cm:
            await self.fetch_raw(
                b"HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\nok"
            )
        self.assertEqual(cm.exception.code, 599)

    @gen_test
    async def test_header_without_colon(self) -> None:
        with self.assertRaises(CurlError):
            await self.fetch_raw(b"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n")

    @gen_test
    async def test_malformed_status_line(self) -> None:
        with self.assertRaises(CurlError):
            await self.fetch_raw(b"HTTP/1.1 abc OK\r\n\r\n")

    @gen_test
    async def test_folded_header(self) -> None:
        response = await self.fetch_raw(
            b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n  continued\r\n"
            b"Content-Length: 2\r\n\r\nok"
        )
        self.assertEqual(response.headers["X-Fold"], "a continued")

    @gen_test
    async def test_reason_from_status_line(self) -> None:
        response = await self.fetch_raw(
            b"HTTP/1.1 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n"
        )
        self.assertEqual(response.reason, "Fine Thanks")
        self.assertNotIn("X-Http-Reason", response.headers)

    # Authentication and proxies

    @gen_test
    async def test_digest_auth(self) -> None:
        response = await self.fetch(
            "/digest",
            auth_username=DIGEST_USER,
            auth_password=DIGEST_PASSWORD,
            auth_mode="digest",
        )
        self.assertEqual(response.body, b"ok")
        response = await self.fetch(
            "/digest",
            auth_username=DIGEST_USER,
            auth_password="wrong",
            auth_mode="digest",
            raise_error=False,
        )
        self.assertEqual(response.code, 403)

    @gen_test
    async def test_proxy(self) -> None:
        proxy_server = self.start_proxy()
        response = await self.http_client.fetch(
            "http://proxied.example.invalid/path?q=1",
            proxy_host="127.0.0.1",
            proxy_port=proxy_server.port,
        )
        info = json.loads(response.body)
        self.assertEqual(info["uri"], "http://proxied.example.invalid/path?q=1")
        self.assertNotIn("Proxy-Authorization", info["headers"])

    @gen_test
    async def test_proxy_basic_auth(self) -> None:
        proxy_server = self.start_proxy()
        response = await self.http_client.fetch(
            "http://proxied.example.invalid/",
            proxy_host="127.0.0.1",
            proxy_port=proxy_server.port,
            proxy_username="Aladdin",
            proxy_password="open sesame",
        )
        self.assertEqual(
            json.loads(response.body)["headers"]["Proxy-Authorization"],
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        )

    @gen_test
    async def test_proxy_digest_auth(self) -> None:
        proxy_server = self.start_proxy(proxy_digest)
        response = await self.http_client.fetch(
            "http://proxied.example.invalid/",
            proxy_host="127.0.0.1",
            proxy_port=proxy_server.port,
            proxy_username="user",
            proxy_password="pass",
            proxy_auth_mode="digest",
        )
        header = json.loads(response.body)["headers"]["Proxy-Authorization"]
        self.assertTrue(header.startswith("Digest "), header)

    @gen_test
    async def test_bad_proxy_auth_mode(self) -> None:
        with self.assertRaisesRegex(ValueError, "Unsupported proxy_auth_mode"):
            await self.fetch(
                "/hello",
                proxy_host="127.0.0.1",
                proxy_port=self.server.port,
                proxy_username="u",
                proxy_auth_mode="kerberos",
            )

    # Access to curl

    @gen_test
    async def test_prepare_curl_callback(self) -> None:
        seen: list[Any] = []

        def prepare(curl: Any) -> None:
            seen.append(curl)
            curl.setopt(pycurl.USERAGENT, "set-by-callback")

        response = await self.fetch("/echo", prepare_curl_callback=prepare)
        self.assertIsInstance(seen[0], pycurl.Curl)
        self.assertEqual(
            json.loads(response.body)["headers"]["User-Agent"], "set-by-callback"
        )

    @gen_test
    async def test_prepare_curl_callback_error(self) -> None:
        def prepare(curl: Any) -> None:
            raise ZeroDivisionError("bad callback")

        with self.assertRaises(ZeroDivisionError):
            await self.fetch("/hello", prepare_curl_callback=prepare)
        # The handle went back to the pool and still works.
        self.assertEqual((await self.fetch("/hello")).code, 200)

    @gen_test
    async def test_handles_reset_between_requests(self) -> None:
        client = self.create_curl(max_clients=1)

        def add_referer(curl: Any) -> None:
            curl.setopt(pycurl.REFERER, "http://referer.example/")

        response = await client.fetch(
            self.url("/echo"),
            auth_username="user",
            auth_password="pass",
            prepare_curl_callback=add_referer,
            method="POST",
            body=b"first",
        )
        headers = json.loads(response.body)["headers"]
        self.assertIn("Authorization", headers)
        self.assertIn("Referer", headers)
        response = await client.fetch(self.url("/echo"))
        info = json.loads(response.body)
        self.assertEqual(info["method"], "GET")
        self.assertEqual(info["body"], "")
        self.assertNotIn("Authorization", info["headers"])
        self.assertNotIn("Referer", info["headers"])

    @gen_test
    async def test_network_interface(self) -> None:
        response = await self.fetch("/echo", network_interface="127.0.0.1")
        self.assertEqual(json.loads(response.body)["remote_ip"], "127.0.0.1")
        with self.assertRaises(CurlError) as cm:
            await self.fetch("/echo", network_interface="no-such-interface0")
        self.assertEqual(cm.exception.errno, pycurl.E_INTERFACE_FAILED)

    @gen_test
    async def test_time_info(self) -> None:
        response = await self.fetch("/hello")
        for phase in (
            "queue",
            "namelookup",
            "connect",
            "pretransfer",
            "starttransfer",
            "total",
        ):
            self.assertIn(phase, response.time_info)
        self.assertGreater(response.time_info["total"], 0)

    @gen_test
    async def test_queued_requests(self) -> None:
        client = self.create_curl(max_clients=1)
        first = client.fetch(self.url("/hang"))
        second = client.fetch(self.url("/hello"))
        self.released.set()
        self.assertEqual((await first).body, b"released")
        response = await second
        self.assertEqual(response.body, b"Hello world!")
        self.assertGreaterEqual(response.time_info["queue"], 0)

    @gen_test
    async def test_debug_logging(self) -> None:
        with ExpectLog(curl_log, "> GET /hello", level=logging.DEBUG):
            await self.fetch("/hello")

    @gen_test
    async def test_callback_exception_logged(self) -> None:
        client = self.create_curl()
        responses: list[HTTPResponse] = []
        delivered = Event()

        def callback(response: HTTPResponse) -> None:
            responses.append(response)
            delivered.set()
            raise ZeroDivisionError("callback failed")

        request = HTTPRequest(self.url("/hello"), **HTTPRequest._DEFAULTS)
        with ExpectLog(
            "tornado.application", "Exception in callback", level=logging.ERROR
        ):
            client.fetch_impl(request, callback)
            await delivered.wait()
        self.assertEqual(responses[0].code, 200)
