"""Tests specific to tornado.simple_httpclient (shared ones are in httpclient_test)."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import socket
import ssl
import unittest
from collections.abc import Iterator
from typing import Any, TypeVar

from tornado import gen
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.httputil import HTTPServerRequest
from tornado.iostream import IOStream, UnsatisfiableReadError
from tornado.locks import Event
from tornado.netutil import Resolver
from tornado.simple_httpclient import (
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
)
from tornado.test.httpclient_test import (
    ClientTestCase,
    Handler,
    LoopbackServer,
    RawServer,
    echo,
    hello,
)
from tornado.test.util import (
    ScriptedServer,
    client_ssl_context,
    ipv6_available,
    respond,
    server_ssl_context,
)
from tornado.testing import ExpectLog, gen_test

BIG_BODY = b"x" * 10000

_E = TypeVar("_E", bound=BaseException)


async def big(request: HTTPServerRequest) -> None:
    respond(request, BIG_BODY)


async def bad_gzip(request: HTTPServerRequest) -> None:
    respond(request, b"not gzip at all", headers={"Content-Encoding": "gzip"})


async def many_headers(request: HTTPServerRequest) -> None:
    respond(request, headers={f"X-Header-{i}": "v" * 20 for i in range(50)})


async def gzip_big(request: HTTPServerRequest) -> None:
    respond(request, gzip.compress(BIG_BODY), headers={"Content-Encoding": "gzip"})


class Trickle(ScriptedServer):
    """Sends a chunked response of ``chunks`` chunks of ``size`` bytes."""

    def __init__(self, chunks: int, size: int = 10) -> None:
        super().__init__()
        self.chunks = chunks
        self.size = size

    def chunk(self, index: int) -> bytes:
        return (b"%d;" % index).ljust(self.size, b".")

    def body(self) -> bytes:
        return b"".join(self.chunk(i) for i in range(self.chunks))

    async def serve(self, stream: IOStream) -> None:
        await stream.read_until(b"\r\n\r\n")
        await stream.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(self.chunks):
            data = self.chunk(i)
            await stream.write(b"%x\r\n%s\r\n" % (len(data), data))
            await asyncio.sleep(0)
        await stream.write(b"0\r\n\r\n")
        await stream.read_until_close()


class UnresponsiveResolver(Resolver):
    """A resolver that never answers, to make connecting time out."""

    def initialize(self) -> None:
        self.closed = False

    async def resolve(self, host: str, port: int, family: Any = 0) -> Any:
        await Event().wait()

    def close(self) -> None:
        self.closed = True


class SimpleHTTPClientTest(ClientTestCase):
    client_class = SimpleAsyncHTTPClient

    def get_handlers(self) -> dict[str, Handler]:
        handlers = super().get_handlers()
        handlers.update(
            {
                "/big": big,
                "/bad_gzip": bad_gzip,
                "/many_headers": many_headers,
                "/gzip_big": gzip_big,
            }
        )
        return handlers

    @contextlib.contextmanager
    def expect_malformed(
        self, error: type[_E]
    ) -> Iterator[unittest.case._AssertRaisesContext[_E]]:
        """Expect ``error`` from a fetch, after "Malformed HTTP message" is logged."""
        with ExpectLog("tornado.general", "Malformed HTTP message", level=logging.INFO):
            with self.assertRaises(error) as raised:
                yield raised

    def create_simple(self, **kwargs: Any) -> SimpleAsyncHTTPClient:
        return self.create_closing_client(SimpleAsyncHTTPClient, **kwargs)

    # Timeouts

    @gen_test
    async def test_request_timeout_error(self) -> None:
        with self.assertRaises(HTTPTimeoutError) as cm:
            await self.fetch("/hang", request_timeout=0.1)
        self.assertEqual(cm.exception.code, 599)
        self.assertEqual(str(cm.exception), "Timeout during request")

    @gen_test
    async def test_queue_timeout(self) -> None:
        client = self.create_simple(max_clients=1)
        first = client.fetch(self.url("/hang"))
        second = client.fetch(self.url("/hello"), connect_timeout=0.1)
        self.assertEqual(len(client.active), 1)
        self.assertEqual(len(client.queue), 1)
        self.assertEqual(len(client.waiting), 1)
        with self.assertRaises(HTTPTimeoutError) as cm:
            await second
        self.assertEqual(str(cm.exception), "Timeout in request queue")
        self.assertEqual(len(client.queue), 0)
        self.assertEqual(len(client.waiting), 0)
        self.released.set()
        self.assertEqual((await first).body, b"released")
        self.assertEqual(len(client.active), 0)

    @gen_test
    async def test_connect_timeout_while_resolving(self) -> None:
        resolver = UnresponsiveResolver()
        client = self.create_simple(resolver=resolver)
        with self.assertRaises(HTTPTimeoutError) as cm:
            await client.fetch("http://unresponsive.invalid/", connect_timeout=0.1)
        self.assertEqual(
            str(cm.exception), "Timeout while resolving unresponsive.invalid"
        )
        client.close()
        self.assertFalse(resolver.closed)  # not owned by the client
        self.assertFalse(client.own_resolver)

    @gen_test
    async def test_request_timeout_while_resolving(self) -> None:
        client = self.create_simple(resolver=UnresponsiveResolver())
        with self.assertRaises(HTTPTimeoutError) as cm:
            await client.fetch(
                "http://unresponsive.invalid/", connect_timeout=30, request_timeout=0.1
            )
        self.assertEqual(
            str(cm.exception), "Timeout while resolving unresponsive.invalid"
        )

    def hanging_port(self) -> int:
        """A loopback port where connecting neither succeeds nor fails.

        Its listener's accept queue is full, so connection requests are dropped.
        """
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler = socket.create_connection(listener.getsockname())
        self.addCleanup(listener.close)
        self.addCleanup(filler.close)
        return int(listener.getsockname()[1])

    @gen_test
    async def test_connect_timeout_names_the_address(self) -> None:
        port = self.hanging_port()
        with self.assertRaises(HTTPTimeoutError) as cm:
            await self.http_client.fetch(
                f"http://127.0.0.1:{port}/", connect_timeout=0.1
            )
        self.assertEqual(
            str(cm.exception), f"Timeout while connecting to 127.0.0.1:{port}"
        )

    @gen_test
    async def test_connect_timeout_during_tls_handshake(self) -> None:
        listener = socket.socket()  # the kernel accepts; nobody answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        with self.assertRaises(HTTPTimeoutError) as cm:
            await self.http_client.fetch(
                f"https://127.0.0.1:{port}/", connect_timeout=0.1
            )
        self.assertEqual(
            str(cm.exception), f"Timeout during TLS handshake with 127.0.0.1:{port}"
        )

    @gen_test
    async def test_no_timeouts(self) -> None:
        response = await self.fetch("/hello", connect_timeout=0, request_timeout=0)
        self.assertEqual(response.code, 200)

    def test_error_strings(self) -> None:
        self.assertEqual(
            str(HTTPTimeoutError("Timeout in request queue")),
            "Timeout in request queue",
        )
        self.assertEqual(str(HTTPStreamClosedError("Stream closed")), "Stream closed")
        self.assertEqual(HTTPStreamClosedError("gone").code, 599)
        self.assertIsInstance(HTTPTimeoutError("x"), HTTPClientError)

    # Resolution and addressing

    @gen_test
    async def test_hostname_mapping(self) -> None:
        client = self.create_simple(
            hostname_mapping={"www.example.invalid": "127.0.0.1"}
        )
        response = await client.fetch(
            f"http://www.example.invalid:{self.server.port}/echo"
        )
        headers = json.loads(response.body)["headers"]
        self.assertEqual(headers["Host"], f"www.example.invalid:{self.server.port}")

    @gen_test
    async def test_explicit_host_header(self) -> None:
        response = await self.fetch("/echo", headers={"Host": "other.example"})
        self.assertEqual(json.loads(response.body)["headers"]["Host"], "other.example")

    @gen_test
    async def test_allow_ipv6_false(self) -> None:
        if not ipv6_available():
            self.skipTest("IPv6 is not available on this host")
        server = self.add_server(LoopbackServer({"/hello": hello}, address="::1"))
        client = self.create_simple(hostname_mapping={"v6only.invalid": "::1"})
        url = f"http://v6only.invalid:{server.port}/hello"
        self.assertEqual((await client.fetch(url)).body, b"Hello world!")
        with self.assertRaises(OSError):
            await client.fetch(url, allow_ipv6=False)

    @gen_test
    async def test_network_interface(self) -> None:
        response = await self.fetch("/echo", network_interface="127.0.0.1")
        self.assertEqual(json.loads(response.body)["remote_ip"], "127.0.0.1")
        with self.assertRaisesRegex(ValueError, "network_interface"):
            await self.fetch("/echo", network_interface="eth-not-an-ip")

    @gen_test
    async def test_unsupported_scheme(self) -> None:
        with self.assertRaisesRegex(ValueError, "Unsupported url scheme"):
            await self.http_client.fetch("ftp://127.0.0.1/file")

    @gen_test
    async def test_proxy_not_supported(self) -> None:
        with self.assertRaisesRegex(NotImplementedError, "proxy_host not supported"):
            await self.fetch("/hello", proxy_host="127.0.0.1", proxy_port=3128)

    @gen_test
    async def test_digest_not_supported(self) -> None:
        with self.assertRaisesRegex(ValueError, "unsupported auth_mode digest"):
            await self.fetch(
                "/hello", auth_username="u", auth_password="p", auth_mode="digest"
            )

    # Request bodies

    @gen_test
    async def test_body_producer_with_length(self) -> None:
        async def produce(write: Any) -> None:
            await write(b"1234")
            await gen.sleep(0.01)
            await write(b"5678")

        response = await self.fetch(
            "/echo",
            method="POST",
            body_producer=produce,
            headers={"Content-Length": "8"},
        )
        self.assertEqual(json.loads(response.body)["body"], "12345678")

    @gen_test
    async def test_body_producer_chunked(self) -> None:
        def produce(write: Any) -> None:
            write(b"abc")
            write(b"def")

        response = await self.fetch("/echo", method="PUT", body_producer=produce)
        info = json.loads(response.body)
        self.assertEqual(info["body"], "abcdef")
        self.assertEqual(info["headers"]["Transfer-Encoding"], "chunked")

    @gen_test
    async def test_body_producer_redirected(self) -> None:
        produced: list[int] = []

        def produce(write: Any) -> None:
            produced.append(1)
            write(b"abc")

        for code in (307, 308):
            response = await self.fetch(
                f"/redirect?status={code}&url=/echo",
                method="PUT",
                body_producer=produce,
                request_timeout=5,
            )
            info = json.loads(response.body)
            # Each request is framed anew (here: chunked, with its last chunk).
            self.assertEqual((info["method"], info["body"]), ("PUT", "abc"))
            self.assertEqual(info["headers"]["Transfer-Encoding"], "chunked")
        self.assertEqual(len(produced), 4)

    @gen_test
    async def test_body_producer_error(self) -> None:
        def produce(write: Any) -> None:
            raise ZeroDivisionError("producer failed")

        with self.assertRaises(ZeroDivisionError):
            await self.fetch("/echo", method="POST", body_producer=produce)

    @gen_test
    async def test_expect_100_continue(self) -> None:
        response = await self.fetch(
            "/echo", method="POST", body=b"continued", expect_100_continue=True
        )
        info = json.loads(response.body)
        self.assertEqual(info["body"], "continued")
        self.assertEqual(info["headers"]["Expect"], "100-continue")

    # Response handling

    @gen_test
    async def test_gzip_headers(self) -> None:
        response = await self.fetch("/gzip")
        self.assertNotIn("Content-Encoding", response.headers)
        self.assertEqual(response.headers["X-Consumed-Content-Encoding"], "gzip")
        request_headers = self.server.requests[-1].headers
        self.assertEqual(request_headers["Accept-Encoding"], "gzip")

    @gen_test
    async def test_bad_gzip(self) -> None:
        with self.expect_malformed(HTTPClientError) as cm:
            await self.fetch("/bad_gzip")
        self.assertEqual(cm.exception.code, 599)

    @gen_test
    async def test_bad_gzip_not_decompressed(self) -> None:
        response = await self.fetch("/bad_gzip", decompress_response=False)
        self.assertEqual(response.body, b"not gzip at all")

    @gen_test
    async def test_max_body_size(self) -> None:
        client = self.create_simple(max_body_size=1000)
        with self.expect_malformed(HTTPStreamClosedError):
            await client.fetch(self.url("/big"))
        response = await client.fetch(self.url("/hello"))
        self.assertEqual(response.body, b"Hello world!")

    @gen_test
    async def test_max_body_size_limits_decompressed_size(self) -> None:
        client = self.create_simple(max_body_size=1000)
        with self.expect_malformed(HTTPClientError):
            await client.fetch(self.url("/gzip_big"))

    @gen_test
    async def test_large_body_streamed_past_buffer_size(self) -> None:
        client = self.create_simple(max_buffer_size=1024, max_body_size=100000)
        chunks: list[bytes] = []
        await client.fetch(self.url("/big"), streaming_callback=chunks.append)
        self.assertEqual(b"".join(chunks), BIG_BODY)
        self.assertTrue(all(len(chunk) <= 1024 for chunk in chunks))

    @gen_test
    async def test_max_buffer_size_bounds_body(self) -> None:
        client = self.create_simple(max_buffer_size=1024)
        with self.expect_malformed(HTTPClientError):
            await client.fetch(self.url("/big"))

    @gen_test
    async def test_204_response_with_body(self) -> None:
        server = self.add_server(
            RawServer(b"HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\nx")
        )
        with ExpectLog(
            "tornado.general",
            "Malformed HTTP message.*Response with code 204 should not have body",
            level=logging.INFO,
        ):
            with self.assertRaises(HTTPStreamClosedError):
                await self.http_client.fetch(server.url())

    @gen_test
    async def test_folded_response_header_is_malformed(self) -> None:
        server = self.add_server(
            RawServer(
                b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\tContent-Length: 5\r\n"
                b"Content-Length: 2\r\n\r\nok"
            )
        )
        with ExpectLog(
            "tornado.general",
            "Malformed HTTP message.*folding not supported",
            level=logging.INFO,
        ):
            with self.assertRaises(HTTPStreamClosedError):
                await self.http_client.fetch(server.url())

    @gen_test
    async def test_backtracking_response_head_parses_at_once(self) -> None:
        # The header block that once made the parser backtrack exponentially
        # (issue: 20 such lines would have taken years), from a server.
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
        head += b"X:    \r\n" * 2000 + b"Y : z\r\n\r\nok"
        server = self.add_server(RawServer(head))
        with ExpectLog("tornado.general", "Malformed HTTP message", level=logging.INFO):
            with self.assertRaises(HTTPStreamClosedError):
                await self.http_client.fetch(server.url(), request_timeout=5)

    @gen_test
    async def test_max_header_size(self) -> None:
        client = self.create_simple(max_header_size=512)
        # Depending on how the data arrives, the connection or the stream
        # notices the oversized head first (and logs it, or not).
        oversized = "(Malformed HTTP message|Unsatisfiable read)"
        with ExpectLog(
            "tornado.general", oversized, required=False, level=logging.INFO
        ):
            with self.assertRaises((HTTPClientError, UnsatisfiableReadError)):
                await client.fetch(self.url("/many_headers"))
        self.assertEqual((await client.fetch(self.url("/hello"))).code, 200)

    async def assert_fails_closed(self, path: str, **kwargs: Any) -> None:
        """The fetch fails with HTTPStreamClosedError, the cause logged."""
        with ExpectLog(
            "tornado.application", "Uncaught exception", level=logging.ERROR
        ):
            with self.assertRaises(HTTPStreamClosedError) as cm:
                await self.fetch(path, **kwargs)
        self.assertEqual(cm.exception.code, 599)

    @gen_test
    async def test_streaming_callback_error(self) -> None:
        def fail(data: bytes) -> None:
            raise ZeroDivisionError("callback failed")

        await self.assert_fails_closed("/hello", streaming_callback=fail)

    @gen_test
    async def test_header_callback_error(self) -> None:
        def fail(line: str) -> None:
            raise ZeroDivisionError("callback failed")

        await self.assert_fails_closed("/hello", header_callback=fail)

    @gen_test
    async def test_callback_error_closes_the_connection(self) -> None:
        server = self.add_server(Trickle(chunks=50, size=10000))
        seen: list[bytes] = []

        def fail_on_second(chunk: bytes) -> None:
            seen.append(chunk)
            if len(seen) == 2:
                raise ZeroDivisionError("callback failed")

        with ExpectLog("tornado.application", "Uncaught exception"):
            with self.assertRaises(HTTPStreamClosedError):
                await self.http_client.fetch(
                    server.url(), streaming_callback=fail_on_second
                )
        await server.closed.wait()  # the server sees the client hang up
        self.assertEqual(len(seen), 2)

    @gen_test
    async def test_coroutine_streaming_callback_is_awaited(self) -> None:
        # Chunks larger than the connection's 64 KiB reads: several calls.
        server = self.add_server(Trickle(chunks=4, size=100 * 1024))
        received: list[bytes] = []
        proceed = Event()
        busy: list[bytes] = []

        async def slow_consumer(chunk: bytes) -> None:
            busy.append(chunk)
            self.assertEqual(len(busy), 1)  # calls never overlap
            received.append(chunk)
            await proceed.wait()
            proceed.clear()
            busy.pop()

        fetch = asyncio.ensure_future(
            self.http_client.fetch(server.url(), streaming_callback=slow_consumer)
        )
        while not fetch.done():
            await asyncio.sleep(0)
            if busy and not proceed.is_set():
                calls = len(received)
                for _ in range(20):
                    await asyncio.sleep(0)
                # Held back: no further call while this one is busy.
                self.assertEqual(len(received), calls)
                proceed.set()
        response = await fetch
        self.assertEqual(b"".join(received), server.body())
        self.assertGreater(len(received), 4)
        self.assertEqual(response.body, b"")

    @gen_test
    async def test_coroutine_streaming_callback_error(self) -> None:
        async def fail(chunk: bytes) -> None:
            await asyncio.sleep(0)
            raise ZeroDivisionError("callback failed")

        await self.assert_fails_closed("/hello", streaming_callback=fail)

    @gen_test
    async def test_coroutine_streaming_callback_cancelled(self) -> None:
        async def cancelled(chunk: bytes) -> None:
            await asyncio.sleep(0)
            raise asyncio.CancelledError()

        await self.assert_fails_closed("/hello", streaming_callback=cancelled)

    # Malformed responses

    async def fetch_raw(self, response: bytes, **kwargs: Any) -> HTTPResponse:
        server = self.add_server(RawServer(response))
        return await self.http_client.fetch(server.url(), **kwargs)

    @gen_test
    async def test_malformed_status_line(self) -> None:
        with self.expect_malformed(HTTPStreamClosedError) as cm:
            await self.fetch_raw(b"HTTP/1.1 abc OK\r\n\r\n")
        self.assertEqual(cm.exception.code, 599)

    @gen_test
    async def test_not_http_at_all(self) -> None:
        with self.expect_malformed(HTTPStreamClosedError):
            await self.fetch_raw(b"SSH-2.0-OpenSSH\r\n\r\n")

    @gen_test
    async def test_truncated_body_error(self) -> None:
        with self.assertRaises(HTTPStreamClosedError) as cm:
            await self.fetch_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        self.assertIn("closed", str(cm.exception))

    @gen_test
    async def test_truncated_chunked_body(self) -> None:
        with self.assertRaises(HTTPStreamClosedError):
            await self.fetch_raw(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"
            )

    @gen_test
    async def test_conflicting_content_length(self) -> None:
        with self.expect_malformed(HTTPStreamClosedError):
            await self.fetch_raw(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                b"Content-Length: 3\r\n\r\nabc"
            )

    @gen_test
    async def test_redirect_without_location_is_returned(self) -> None:
        response = await self.fetch_raw(
            b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", raise_error=False
        )
        self.assertEqual(response.code, 302)

    # Redirects

    @gen_test
    async def test_redirect_other_origin_drops_cookies(self) -> None:
        other = self.add_server(LoopbackServer({"/echo": echo}))
        location = other.url("/echo")
        response = await self.fetch_raw(
            b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
            % location.encode(),
            headers={"Cookie": "session=secret"},
        )
        self.assertNotIn("Cookie", json.loads(response.body)["headers"])

    @gen_test
    async def test_redirect_error_reported(self) -> None:
        url = "http://127.0.0.1:1/unreachable"
        with self.assertRaises(OSError):
            await self.fetch(f"/redirect?url={url}")

    # TLS

    @gen_test
    async def test_ssl_options(self) -> None:
        server = self.add_server(
            LoopbackServer({"/hello": hello}, ssl_options=server_ssl_context())
        )
        response = await self.http_client.fetch(
            server.url("/hello"), ssl_options=dict(cert_reqs=ssl.CERT_NONE)
        )
        self.assertEqual(response.body, b"Hello world!")
        response = await self.http_client.fetch(
            server.url("/hello"), ssl_options=client_ssl_context()
        )
        self.assertEqual(response.body, b"Hello world!")

    @gen_test
    async def test_bad_ca_file(self) -> None:
        server = self.add_server(
            LoopbackServer({"/hello": hello}, ssl_options=server_ssl_context())
        )
        with self.assertRaises(OSError):
            await self.http_client.fetch(
                server.url("/hello"), ca_certs="/nonexistent.pem"
            )

    @gen_test
    async def test_tls_to_plain_server(self) -> None:
        server = self.add_server(
            RawServer(b"HTTP/1.1 200 OK\r\n\r\n", wait_for_headers=False)
        )
        url = server.url().replace("http:", "https:")
        with ExpectLog("tornado.general", "SSL Error", required=False):
            with self.assertRaises(ssl.SSLError):
                await self.http_client.fetch(url, validate_cert=False)


class ResolverOwnershipTest(ClientTestCase):
    def test_own_resolver_closed(self) -> None:
        client = SimpleAsyncHTTPClient(force_instance=True)
        self.assertTrue(client.own_resolver)
        closed: list[bool] = []
        original_close = client.resolver.close

        def close() -> None:
            closed.append(True)
            original_close()

        client.resolver.close = close
        client.close()
        self.assertEqual(closed, [True])

    def test_defaults(self) -> None:
        client = SimpleAsyncHTTPClient(force_instance=True)
        try:
            self.assertEqual(client.max_clients, 10)
            self.assertEqual(client.max_buffer_size, 104857600)
            self.assertIsNone(client.max_header_size)
            self.assertIsNone(client.max_body_size)
            self.assertIsNotNone(client.tcp_client)
        finally:
            client.close()
