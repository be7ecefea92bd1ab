"""Tests of tornado.httpclient, run against both client implementations.

`HTTPClientCommonTestCase` holds the behaviour every client must share; the
concrete classes at the bottom of this module run it with the simple and
the curl client. Servers are real `HTTPServer` instances on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import gzip
import io
import json
import os
import subprocess
import sys
import threading
import typing
import unittest
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tornado import gen
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClient,
    HTTPClientError,
    HTTPError,
    HTTPRequest,
    HTTPResponse,
    _RequestProxy,
)
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPHeaders,
    HTTPServerRequest,
    ResponseStartLine,
    format_timestamp,
)
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.test.util import (
    REPO_ROOT,
    TEST_CERT,
    TEST_KEY,
    ScriptedServer,
    closed_port,
    ipv6_available,
    respond,
    server_ssl_context,
)
from tornado.testing import AsyncTestCase, ExpectLog, bind_unused_port, gen_test

try:
    import pycurl  # noqa: F401
except ImportError:
    pycurl = None  # type: ignore[assignment]


# What a failed connection raises: the simple client passes the socket's
# OSError on, curl reports a CurlError (an HTTPClientError with code 599).
TRANSPORT_ERRORS = (OSError, HTTPClientError)

_ServerT = TypeVar("_ServerT")
_ClientT = TypeVar("_ClientT", bound=AsyncHTTPClient)

Handler = Callable[[HTTPServerRequest], Awaitable[None] | None]


# ---------------------------------------------------------------------------
# A small test server: HTTPServer plus a table of path -> handler function.


def query_arg(request: HTTPServerRequest, name: str, default: str = "") -> str:
    values = request.query_arguments.get(name)
    return values[0].decode() if values else default


def redirect(request: HTTPServerRequest, location: str, code: int = 302) -> None:
    respond(request, code=code, headers={"Location": location})


async def hello(request: HTTPServerRequest) -> None:
    respond(
        request,
        f"Hello {query_arg(request, 'name', 'world')}!",
        headers={"Content-Type": "text/plain"},
    )


async def echo(request: HTTPServerRequest) -> None:
    """Describe the request as JSON: method, uri, headers and body."""
    info = dict(
        method=request.method,
        uri=request.uri,
        headers=dict(request.headers.get_all()),
        body=request.body.decode("latin1"),
        remote_ip=request.remote_ip,
    )
    respond(request, json.dumps(info), headers={"Content-Type": "application/json"})


async def status(request: HTTPServerRequest) -> None:
    code = int(query_arg(request, "code", "200"))
    respond(
        request,
        f"status {code}",
        code=code,
        reason=query_arg(request, "reason") or None,
    )


async def redirect_to(request: HTTPServerRequest) -> None:
    redirect(
        request, query_arg(request, "url"), int(query_arg(request, "status", "302"))
    )


async def countdown(request: HTTPServerRequest) -> None:
    count = int(request.path.rsplit("/", 1)[1])
    if count:
        redirect(request, f"/countdown/{count - 1}")
    else:
        respond(request, "Zero")


async def chunked(request: HTTPServerRequest) -> None:
    assert request.connection is not None
    start_line = ResponseStartLine("HTTP/1.1", 200, "OK")
    # No Content-Length: the connection uses chunked encoding.
    await request.connection.write_headers(start_line, HTTPHeaders())
    await request.connection.write(b"asdf")
    await request.connection.write(b"qwer")
    request.connection.finish()


def gzip_handler(payload: bytes) -> Handler:
    async def handler(request: HTTPServerRequest) -> None:
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            respond(
                request,
                gzip.compress(payload),
                headers={"Content-Encoding": "gzip"},
            )
        else:
            respond(request, payload)

    return handler


GZIP_PAYLOAD = b"compressible " * 100


class LoopbackServer:
    """An HTTPServer on a loopback port serving a table of handlers."""

    def __init__(
        self,
        handlers: dict[str, Handler],
        ssl_options: Any = None,
        address: str = "127.0.0.1",
    ) -> None:
        self.handlers = handlers
        self.requests: list[HTTPServerRequest] = []
        sock, self.port = bind_unused_port(address=address)
        self.host = f"[{address}]" if ":" in address else address
        self.scheme = "https" if ssl_options else "http"
        self.server = HTTPServer(self._handle, ssl_options=ssl_options)
        self.server.add_sockets([sock])

    def _handle(self, request: HTTPServerRequest) -> None:
        self.requests.append(request)
        handler = self.handlers.get(request.path)
        if handler is None:
            prefix = request.path.rsplit("/", 1)[0] + "/"
            handler = self.handlers.get(prefix)
        if handler is None:
            handler = self.handlers.get("*")  # catch-all, e.g. for a proxy
        if handler is None:
            respond(request, "not found", code=404)
            return
        result = handler(request)
        if result is not None:
            IOLoop.current().add_future(
                asyncio.ensure_future(result), lambda f: f.result()
            )

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    async def close(self) -> None:
        self.server.stop()
        await self.server.close_all_connections()


class RawServer(ScriptedServer):
    """Answers every connection with fixed bytes, then closes it."""

    def __init__(self, response: bytes, wait_for_headers: bool = True) -> None:
        super().__init__()
        self.response = response
        # Without waiting for a request's headers, answer after any first
        # bytes (such as a TLS ClientHello).
        self.wait_for_headers = wait_for_headers

    async def serve(self, stream: IOStream) -> None:
        if self.wait_for_headers:
            await stream.read_until(b"\r\n\r\n")
        else:
            await stream.read_bytes(1, partial=True)
        await stream.write(self.response)
        stream.close()


# ---------------------------------------------------------------------------


class ClientTestCase(AsyncTestCase):
    """Runs a `LoopbackServer` and a private client of ``client_class``."""

    client_class: type[AsyncHTTPClient] = SimpleAsyncHTTPClient

    def get_handlers(self) -> dict[str, Handler]:
        return {
            "/hello": hello,
            "/echo": echo,
            "/status": status,
            "/redirect": redirect_to,
            "/countdown/": countdown,
            "/chunked": chunked,
            "/gzip": gzip_handler(GZIP_PAYLOAD),
            "/hang": self.hang,
        }

    def setUp(self) -> None:
        super().setUp()
        self.released = Event()
        self.server = LoopbackServer(self.get_handlers())
        self.servers: list[Any] = [self.server]
        self.http_client = self.create_client()

    def tearDown(self) -> None:
        self.released.set()
        self.http_client.close()
        for server in self.servers:
            self.io_loop.run_sync(server.close)
        super().tearDown()

    def add_server(self, server: _ServerT) -> _ServerT:
        """Close ``server`` (a LoopbackServer or RawServer) with the test."""
        self.servers.append(server)
        return server

    def create_client(self, **kwargs: Any) -> AsyncHTTPClient:
        client: AsyncHTTPClient = self.client_class(force_instance=True, **kwargs)
        return client

    def create_closing_client(
        self, client_type: type[_ClientT], **kwargs: Any
    ) -> _ClientT:
        """A new client (checked to be a ``client_type``) closed with the test."""
        client = self.create_client(**kwargs)
        assert isinstance(client, client_type)
        self.addCleanup(client.close)
        return client

    async def hang(self, request: HTTPServerRequest) -> None:
        """Answer only once the test sets ``released`` (or never)."""
        await self.released.wait()
        stream = getattr(request.connection, "stream", None)
        if stream is not None and not stream.closed():
            respond(request, "released")

    def url(self, path: str) -> str:
        return self.server.url(path)

    def fetch(self, path: str, **kwargs: Any) -> Awaitable[HTTPResponse]:
        return self.http_client.fetch(self.url(path), **kwargs)


if typing.TYPE_CHECKING:
    _MixinBase = ClientTestCase
else:
    _MixinBase = object


class HTTPClientCommonTests(_MixinBase):
    """Behaviour shared by every AsyncHTTPClient implementation.

    Mixed into one `ClientTestCase` per client class at the end of the module.
    """

    @gen_test
    async def test_hello_world(self) -> None:
        response = await self.fetch("/hello")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.reason, "OK")
        self.assertEqual(response.headers["Content-Type"], "text/plain")
        self.assertEqual(response.body, b"Hello world!")
        assert response.buffer is not None and response.request_time is not None
        self.assertEqual(response.buffer.getvalue(), b"Hello world!")
        self.assertEqual(response.effective_url, self.url("/hello"))
        self.assertIsNone(response.error)
        self.assertGreater(response.request_time, 0)
        self.assertIsNotNone(response.start_time)
        self.assertIsInstance(response.time_info, dict)
        response.rethrow()  # no error: nothing happens

    @gen_test
    async def test_query_arguments(self) -> None:
        response = await self.fetch("/hello?name=Ben")
        self.assertEqual(response.body, b"Hello Ben!")

    @gen_test
    async def test_request_object(self) -> None:
        request = HTTPRequest(self.url("/echo"), headers={"X-Test": "yes"})
        response = await self.http_client.fetch(request)
        self.assertEqual(json.loads(response.body)["headers"]["X-Test"], "yes")
        self.assertIs(response.request, request)

    @gen_test
    async def test_post(self) -> None:
        response = await self.fetch("/echo", method="POST", body="arg1=foo&arg2=bar")
        info = json.loads(response.body)
        self.assertEqual(info["method"], "POST")
        self.assertEqual(info["body"], "arg1=foo&arg2=bar")
        self.assertEqual(
            info["headers"]["Content-Type"], "application/x-www-form-urlencoded"
        )
        self.assertEqual(info["headers"]["Content-Length"], "17")

    @gen_test
    async def test_methods_with_body(self) -> None:
        for method in ("PUT", "PATCH"):
            response = await self.fetch("/echo", method=method, body=b"data")
            info = json.loads(response.body)
            self.assertEqual((info["method"], info["body"]), (method, "data"))

    @gen_test
    async def test_empty_post_body(self) -> None:
        response = await self.fetch("/echo", method="POST", body=b"")
        self.assertEqual(json.loads(response.body)["headers"]["Content-Length"], "0")

    @gen_test
    async def test_methods_without_body(self) -> None:
        for method in ("GET", "DELETE", "OPTIONS"):
            response = await self.fetch("/echo", method=method)
            self.assertEqual(json.loads(response.body)["method"], method)

    @gen_test
    async def test_head(self) -> None:
        response = await self.fetch("/hello", method="HEAD")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers["Content-Length"], "12")
        self.assertEqual(response.body, b"")

    @gen_test
    async def test_body_required_for_post(self) -> None:
        with self.assertRaisesRegex(
            ValueError, "Body must not be None for method POST"
        ):
            await self.fetch("/echo", method="POST")

    @gen_test
    async def test_body_forbidden_for_delete(self) -> None:
        with self.assertRaisesRegex(ValueError, "Body must be None for method DELETE"):
            await self.fetch("/echo", method="DELETE", body="x")

    @gen_test
    async def test_nonstandard_method(self) -> None:
        with self.assertRaises((KeyError, ValueError)):
            await self.fetch("/echo", method="FOO")
        response = await self.fetch(
            "/echo", method="FOO", body=b"x", allow_nonstandard_methods=True
        )
        info = json.loads(response.body)
        self.assertEqual((info["method"], info["body"]), ("FOO", "x"))

    @gen_test
    async def test_post_without_body_when_allowed(self) -> None:
        response = await self.fetch(
            "/echo", method="POST", allow_nonstandard_methods=True
        )
        self.assertEqual(json.loads(response.body)["body"], "")

    @gen_test
    async def test_basic_auth(self) -> None:
        response = await self.fetch(
            "/echo", auth_username="Aladdin", auth_password="open sesame"
        )
        self.assertEqual(
            json.loads(response.body)["headers"]["Authorization"],
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        )
        response = await self.fetch(
            "/echo",
            auth_username="Aladdin",
            auth_password="open sesame",
            auth_mode="basic",
        )
        self.assertIn("Authorization", json.loads(response.body)["headers"])

    @gen_test
    async def test_basic_auth_unicode(self) -> None:
        response = await self.fetch("/echo", auth_username="test", auth_password="123£")
        expected = "Basic " + base64.b64encode("test:123£".encode()).decode()
        self.assertEqual(
            json.loads(response.body)["headers"]["Authorization"], expected
        )

    @gen_test
    async def test_credentials_in_url(self) -> None:
        url = self.url("/echo").replace("://", "://me:secret@")
        response = await self.http_client.fetch(url)
        expected = "Basic " + base64.b64encode(b"me:secret").decode()
        self.assertEqual(
            json.loads(response.body)["headers"]["Authorization"], expected
        )

    @gen_test
    async def test_unsupported_auth_mode(self) -> None:
        with self.assertRaisesRegex(ValueError, "auth_mode"):
            await self.fetch(
                "/echo", auth_username="u", auth_password="p", auth_mode="asdf"
            )

    @gen_test
    async def test_user_agent(self) -> None:
        response = await self.fetch("/echo", user_agent="TestAgent/1.0")
        self.assertEqual(
            json.loads(response.body)["headers"]["User-Agent"], "TestAgent/1.0"
        )
        response = await self.fetch("/echo")
        self.assertTrue(json.loads(response.body)["headers"]["User-Agent"])

    @gen_test
    async def test_defaults_from_client(self) -> None:
        client = self.create_client(defaults=dict(user_agent="DefaultAgent"))
        try:
            response = await client.fetch(self.url("/echo"))
            self.assertEqual(
                json.loads(response.body)["headers"]["User-Agent"], "DefaultAgent"
            )
            response = await client.fetch(self.url("/echo"), user_agent="Override")
            self.assertEqual(
                json.loads(response.body)["headers"]["User-Agent"], "Override"
            )
        finally:
            client.close()

    @gen_test
    async def test_if_modified_since(self) -> None:
        when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        response = await self.fetch("/echo", if_modified_since=when)
        self.assertEqual(
            json.loads(response.body)["headers"]["If-Modified-Since"],
            "Thu, 02 Jan 2020 03:04:05 GMT",
        )

    @gen_test
    async def test_repeated_headers(self) -> None:
        headers = HTTPHeaders()
        headers.add("X-Multi", "a")
        headers.add("X-Multi", "b")
        response = await self.fetch("/echo", headers=headers)
        request = self.server.requests[-1]
        self.assertEqual(request.headers.get_list("X-Multi"), ["a", "b"])
        self.assertEqual(response.code, 200)

    @gen_test
    async def test_non_ascii_header_value(self) -> None:
        await self.fetch("/echo", headers={"X-Latin": "caf\xe9"})
        self.assertEqual(self.server.requests[-1].headers["X-Latin"], "caf\xe9")

    @gen_test
    async def test_error_status_raises(self) -> None:
        with self.assertRaises(HTTPClientError) as cm:
            await self.fetch("/status?code=404")
        error = cm.exception
        self.assertEqual(error.code, 404)
        self.assertEqual(error.message, "Not Found")
        self.assertEqual(str(error), "HTTP 404: Not Found")
        self.assertIsNotNone(error.response)
        assert error.response is not None
        self.assertEqual(error.response.body, b"status 404")

    @gen_test
    async def test_error_status_without_raise(self) -> None:
        response = await self.fetch("/status?code=500", raise_error=False)
        self.assertEqual(response.code, 500)
        self.assertIsInstance(response.error, HTTPClientError)
        self.assertEqual(response.body, b"status 500")
        with self.assertRaises(HTTPClientError):
            response.rethrow()

    @gen_test
    async def test_custom_reason(self) -> None:
        response = await self.fetch("/status?code=200&reason=Custom+reason")
        self.assertEqual(response.reason, "Custom reason")
        with self.assertRaises(HTTPClientError) as cm:
            await self.fetch("/status?code=418&reason=Short+and+stout")
        self.assertEqual(cm.exception.message, "Short and stout")

    @gen_test
    async def test_unknown_status_code(self) -> None:
        response = await self.fetch("/status?code=299")
        self.assertEqual(response.code, 299)

    @gen_test
    async def test_follow_redirects(self) -> None:
        response = await self.fetch("/countdown/2")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.body, b"Zero")
        self.assertTrue(response.effective_url.endswith("/countdown/0"))
        self.assertTrue(response.request.url.endswith("/countdown/2"))

    @gen_test
    async def test_no_follow_redirects(self) -> None:
        with self.assertRaises(HTTPClientError) as cm:
            await self.fetch("/countdown/2", follow_redirects=False)
        self.assertEqual(cm.exception.code, 302)
        response = await self.fetch(
            "/countdown/2", follow_redirects=False, raise_error=False
        )
        self.assertEqual(response.code, 302)
        self.assertTrue(response.headers["Location"].endswith("/countdown/1"))

    @gen_test
    async def test_max_redirects(self) -> None:
        # curl reports "too many redirects" as a transport error, the
        # simple client returns the last redirect it got.
        with self.assertRaises(HTTPClientError) as cm:
            await self.fetch("/countdown/5", max_redirects=3)
        self.assertIn(cm.exception.code, (302, 599))
        response = await self.fetch("/countdown/3", max_redirects=3)
        self.assertEqual(response.body, b"Zero")

    async def check_redirect_method(
        self, code: int, method: str, expected_method: str, body: bytes | None
    ) -> None:
        target = urllib.parse.quote("/echo")
        response = await self.fetch(
            f"/redirect?status={code}&url={target}",
            method=method,
            body=body,
        )
        info = json.loads(response.body)
        self.assertEqual(info["method"], expected_method, f"{code} after {method}")
        if expected_method == "GET":
            self.assertEqual(info["body"], "")
            self.assertNotIn("Content-Type", info["headers"])
            self.assertNotIn("Content-Length", info["headers"])
        else:
            self.assertEqual(info["body"], (body or b"").decode())

    @gen_test
    async def test_redirect_post_becomes_get(self) -> None:
        for code in (301, 302, 303):
            await self.check_redirect_method(code, "POST", "GET", b"data")

    @gen_test
    async def test_redirect_keeps_method(self) -> None:
        for code in (307, 308):
            await self.check_redirect_method(code, "POST", "POST", b"data")
        await self.check_redirect_method(302, "PUT", "PUT", b"data")

    @gen_test
    async def test_see_other_turns_put_into_get(self) -> None:
        await self.check_redirect_method(303, "PUT", "GET", b"data")

    # (code, method, sends a body, method after the redirect, body kept)
    REDIRECT_RULES = [
        (301, "POST", True, "GET", False),
        (302, "POST", True, "GET", False),
        (303, "POST", True, "GET", False),
        (301, "PUT", True, "PUT", True),
        (302, "PATCH", True, "PATCH", True),
        (301, "DELETE", False, "DELETE", False),
        (303, "PUT", True, "GET", False),
        (303, "PATCH", True, "GET", False),
        (303, "DELETE", False, "GET", False),
        (303, "HEAD", False, "HEAD", False),
        (307, "POST", True, "POST", True),
        (307, "PUT", True, "PUT", True),
        (307, "PATCH", True, "PATCH", True),
        (308, "POST", True, "POST", True),
        (308, "PUT", True, "PUT", True),
        (307, "DELETE", False, "DELETE", False),
    ]

    @gen_test
    async def test_redirect_method_and_body_rules(self) -> None:
        target = urllib.parse.quote("/echo")
        for code, method, with_body, expected_method, keeps_body in self.REDIRECT_RULES:
            label = f"{code} after {method}"
            request = HTTPRequest(
                self.url(f"/redirect?status={code}&url={target}"),
                method=method,
                body=b"payload" if with_body else None,
                headers={"Content-Type": "text/plain"} if with_body else None,
                request_timeout=5,
            )
            response = await self.http_client.fetch(request)
            self.assertEqual(response.code, 200, label)
            final = self.server.requests[-1]
            self.assertEqual(final.path, "/echo", label)
            self.assertEqual(final.method, expected_method, label)
            if keeps_body:
                self.assertEqual(final.body, b"payload", label)
                self.assertEqual(final.headers["Content-Length"], "7", label)
                self.assertEqual(final.headers["Content-Type"], "text/plain", label)
            else:
                self.assertEqual(final.body, b"", label)
                self.assertNotIn("Content-Type", final.headers, label)
            if expected_method == "GET":
                self.assertNotIn("Content-Length", final.headers, label)
                self.assertNotIn("Transfer-Encoding", final.headers, label)
            # Framing is worked out for each request, never stored in its
            # headers.
            self.assertNotIn("Transfer-Encoding", request.headers, label)
            self.assertNotIn("Content-Length", request.headers, label)

    @gen_test
    async def test_put_without_body_redirected(self) -> None:
        for code in (301, 307, 308):
            response = await self.fetch(
                f"/redirect?status={code}&url=/echo",
                method="PUT",
                allow_nonstandard_methods=True,
                request_timeout=5,
            )
            info = json.loads(response.body)
            self.assertEqual((info["method"], info["body"]), ("PUT", ""), code)

    @gen_test
    async def test_redirect_same_origin_keeps_credentials(self) -> None:
        response = await self.fetch(
            "/redirect?url=/echo", auth_username="user", auth_password="pass"
        )
        self.assertIn("Authorization", json.loads(response.body)["headers"])

    @gen_test
    async def test_redirect_other_origin_drops_credentials(self) -> None:
        other = self.add_server(LoopbackServer({"/echo": echo}))
        target = urllib.parse.quote(other.url("/echo"))
        response = await self.fetch(
            f"/redirect?url={target}",
            auth_username="user",
            auth_password="pass",
        )
        self.assertEqual(response.effective_url, other.url("/echo"))
        self.assertNotIn("Authorization", json.loads(response.body)["headers"])
        response = await self.fetch(
            f"/redirect?url={target}", headers={"Authorization": "Bearer token"}
        )
        self.assertNotIn("Authorization", json.loads(response.body)["headers"])

    @gen_test
    async def test_streaming_callback(self) -> None:
        chunks: list[bytes] = []
        response = await self.fetch("/chunked", streaming_callback=chunks.append)
        self.assertEqual(b"".join(chunks), b"asdfqwer")
        self.assertEqual(response.body, b"")

    @gen_test
    async def test_chunked_response(self) -> None:
        response = await self.fetch("/chunked")
        self.assertEqual(response.body, b"asdfqwer")

    @gen_test
    async def test_header_callback(self) -> None:
        lines: list[str] = []
        response = await self.fetch("/hello", header_callback=lines.append)
        self.assertEqual(response.code, 200)
        self.assertTrue(lines[0].startswith("HTTP/1.1 200"), lines[0])
        self.assertEqual(lines[-1], "\r\n")
        header_lines = [line.rstrip("\r\n") for line in lines[1:-1]]
        self.assertIn("Content-Type: text/plain", header_lines)
        self.assertTrue(all(line.endswith("\r\n") for line in lines))

    @gen_test
    async def test_gzip_decompressed(self) -> None:
        response = await self.fetch("/gzip")
        self.assertEqual(response.body, GZIP_PAYLOAD)
        response = await self.fetch("/gzip", use_gzip=True)
        self.assertEqual(response.body, GZIP_PAYLOAD)

    @gen_test
    async def test_gzip_not_requested(self) -> None:
        response = await self.fetch("/gzip", decompress_response=False)
        self.assertEqual(response.body, GZIP_PAYLOAD)
        self.assertNotIn("Content-Encoding", response.headers)

    @gen_test
    async def test_request_timeout(self) -> None:
        with self.assertRaises(HTTPClientError) as cm:
            await self.fetch("/hang", request_timeout=0.1)
        self.assertEqual(cm.exception.code, 599)
        self.assertRegex(str(cm.exception), "(?i)time(d)? ?out")

    @gen_test
    async def test_timeout_error_not_suppressed(self) -> None:
        with self.assertRaises(HTTPClientError):
            await self.fetch("/hang", request_timeout=0.1, raise_error=False)

    @gen_test
    async def test_connection_refused(self) -> None:
        url = f"http://127.0.0.1:{closed_port()}/"
        with self.assertRaises(
            OSError if self.client_class is SimpleAsyncHTTPClient else HTTPClientError
        ):
            await self.http_client.fetch(url)
        with self.assertRaises(TRANSPORT_ERRORS):
            await self.http_client.fetch(url, raise_error=False)

    @gen_test
    async def test_ipv6(self) -> None:
        if not ipv6_available():
            self.skipTest("IPv6 is not available on this host")
        server = self.add_server(LoopbackServer({"/hello": hello}, address="::1"))
        response = await self.http_client.fetch(server.url("/hello"))
        self.assertEqual(response.body, b"Hello world!")

    @gen_test
    async def test_truncated_body(self) -> None:
        server = self.add_server(
            RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
        )
        with self.assertRaises(HTTPClientError) as cm:
            await self.http_client.fetch(server.url())
        self.assertEqual(cm.exception.code, 599)

    @gen_test
    async def test_connection_closed_without_response(self) -> None:
        server = self.add_server(RawServer(b""))
        with self.assertRaises(HTTPClientError) as cm:
            await self.http_client.fetch(server.url())
        self.assertEqual(cm.exception.code, 599)

    @gen_test
    async def test_body_until_close(self) -> None:
        # An HTTP/1.0 style response without framing ends when the server
        # closes the connection.
        server = self.add_server(RawServer(b"HTTP/1.0 200 OK\r\n\r\nuntil close"))
        response = await self.http_client.fetch(server.url())
        self.assertEqual(response.body, b"until close")

    @gen_test
    async def test_kwargs_with_request_object(self) -> None:
        with self.assertRaisesRegex(ValueError, "kwargs can't be used"):
            self.http_client.fetch(HTTPRequest(self.url("/hello")), method="POST")

    @gen_test
    async def test_fetch_after_close(self) -> None:
        client = self.create_client()
        client.close()
        client.close()  # closing twice is harmless
        with self.assertRaisesRegex(RuntimeError, "closed"):
            client.fetch(self.url("/hello"))

    @gen_test
    async def test_max_clients_queue(self) -> None:
        client = self.create_client(max_clients=1)
        try:
            first = client.fetch(self.url("/hang"))
            second = client.fetch(self.url("/hello"))
            await gen.sleep(0.05)
            self.assertFalse(second.done())  # waiting for the only slot
            self.released.set()
            self.assertEqual((await first).body, b"released")
            self.assertEqual((await second).body, b"Hello world!")
        finally:
            client.close()

    @gen_test
    async def test_https_validation(self) -> None:
        server = self.add_server(
            LoopbackServer({"/hello": hello}, ssl_options=server_ssl_context())
        )
        # The server logs the client's rejection when it reads the alert,
        # which on some loop backends is after the failed fetch returns; the
        # later fetches give it the time to, inside the ExpectLog.
        with ExpectLog("tornado.general", "SSL Error", required=False):
            with self.assertRaises(TRANSPORT_ERRORS):
                await self.http_client.fetch(server.url("/hello"))
            response = await self.http_client.fetch(
                server.url("/hello"), validate_cert=False
            )
            self.assertEqual(response.body, b"Hello world!")
            response = await self.http_client.fetch(
                server.url("/hello"), ca_certs=TEST_CERT
            )
            self.assertEqual(response.body, b"Hello world!")

    @gen_test
    async def test_client_certificate(self) -> None:
        context = server_ssl_context(verify_clients=True)
        server = self.add_server(
            LoopbackServer({"/echo": self.peer_cert}, ssl_options=context)
        )
        response = await self.http_client.fetch(
            server.url("/echo"),
            ca_certs=TEST_CERT,
            client_cert=TEST_CERT,
            client_key=TEST_KEY,
        )
        self.assertIn(b"Tornado Test Suite", response.body)

    async def peer_cert(self, request: HTTPServerRequest) -> None:
        respond(request, repr(request.get_ssl_certificate()))


class HTTPRequestTest(unittest.TestCase):
    def test_defaults(self) -> None:
        request = HTTPRequest("http://example.com/")
        self.assertEqual(request.method, "GET")
        self.assertIsInstance(request.headers, HTTPHeaders)
        self.assertIsNone(request.body)
        self.assertIsNone(request.connect_timeout)
        self.assertFalse(request.expect_100_continue)
        self.assertAlmostEqual(request.start_time, __import__("time").time(), delta=5)
        self.assertEqual(HTTPRequest._DEFAULTS["request_timeout"], 20.0)
        self.assertEqual(HTTPRequest._DEFAULTS["max_redirects"], 5)

    def test_body_is_encoded(self) -> None:
        request = HTTPRequest("http://example.com/", method="POST", body="caf\xe9")
        self.assertEqual(request.body, "caf\xe9".encode())
        request.body = None
        self.assertIsNone(request.body)

    def test_bad_body_type(self) -> None:
        with self.assertRaises(TypeError):
            HTTPRequest("http://example.com/", body=42)  # type: ignore[arg-type]

    def test_headers_setter(self) -> None:
        request = HTTPRequest("http://example.com/", headers={"X-A": "1"})
        self.assertEqual(request.headers, {"X-A": "1"})
        request.headers = None
        self.assertEqual(request.headers, HTTPHeaders())

    def test_if_modified_since(self) -> None:
        when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        request = HTTPRequest("http://example.com/", if_modified_since=when)
        self.assertEqual(request.headers["If-Modified-Since"], format_timestamp(when))

    def test_use_gzip_alias(self) -> None:
        self.assertTrue(HTTPRequest("http://x/", use_gzip=True).decompress_response)
        self.assertFalse(
            HTTPRequest(
                "http://x/", use_gzip=True, decompress_response=False
            ).decompress_response
        )

    def test_request_proxy(self) -> None:
        request = HTTPRequest("http://x/", user_agent="Mine")
        proxy = _RequestProxy(request, dict(user_agent="Default", request_timeout=3))
        self.assertEqual(proxy.user_agent, "Mine")
        self.assertEqual(proxy.request_timeout, 3)
        self.assertIsNone(proxy.network_interface)
        self.assertIsNone(_RequestProxy(request, None).request_timeout)
        with self.assertRaises(AttributeError):
            proxy.no_such_attribute  # noqa: B018


class HTTPResponseTest(unittest.TestCase):
    def test_body_from_buffer(self) -> None:
        request = HTTPRequest("http://example.com/")
        response = HTTPResponse(request, 200, buffer=io.BytesIO(b"data"))
        self.assertEqual(response.body, b"data")
        self.assertEqual(response.effective_url, "http://example.com/")
        self.assertEqual(response.reason, "OK")
        self.assertEqual(response.time_info, {})
        self.assertEqual(HTTPResponse(request, 200).body, b"")

    def test_error_from_code(self) -> None:
        request = HTTPRequest("http://example.com/")
        response = HTTPResponse(request, 503, reason="Busy")
        assert isinstance(response.error, HTTPClientError)
        self.assertEqual(response.error.code, 503)
        self.assertEqual(response.error.message, "Busy")
        self.assertIs(response.error.response, response)
        with self.assertRaises(HTTPClientError):
            response.rethrow()
        given = ValueError("boom")
        self.assertIs(HTTPResponse(request, 599, error=given).error, given)

    def test_unwraps_request_proxy(self) -> None:
        request = HTTPRequest("http://example.com/")
        response = HTTPResponse(_RequestProxy(request, {}), 200)  # type: ignore[arg-type]
        self.assertIs(response.request, request)

    def test_repr(self) -> None:
        response = HTTPResponse(HTTPRequest("http://example.com/"), 200)
        text = repr(response)
        self.assertTrue(text.startswith("HTTPResponse("), text)
        self.assertIn("code=200", text)


class HTTPClientErrorTest(unittest.TestCase):
    def test_message(self) -> None:
        error = HTTPClientError(404)
        self.assertEqual(error.message, "Not Found")
        self.assertEqual(str(error), "HTTP 404: Not Found")
        self.assertEqual(repr(error), "HTTP 404: Not Found")
        self.assertIsNone(error.response)
        self.assertEqual(str(HTTPClientError(599, "Timeout")), "HTTP 599: Timeout")
        self.assertEqual(HTTPClientError(999).message, "Unknown")

    def test_alias(self) -> None:
        self.assertIs(HTTPError, HTTPClientError)

    def test_pickle_safe_args(self) -> None:
        import pickle

        error = pickle.loads(pickle.dumps(HTTPClientError(500, "oops")))
        self.assertEqual((error.code, error.message), (500, "oops"))


class AsyncHTTPClientTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        saved = AsyncHTTPClient._save_configuration()
        self.addCleanup(AsyncHTTPClient._restore_configuration, saved)

    def test_instance_per_loop(self) -> None:
        client = AsyncHTTPClient()
        try:
            self.assertIs(AsyncHTTPClient(), client)
            self.assertIs(client.io_loop, self.io_loop)
            forced = AsyncHTTPClient(force_instance=True)
            self.assertIsNot(forced, client)
            forced.close()
            self.assertIs(AsyncHTTPClient(), client)
        finally:
            client.close()
        replacement = AsyncHTTPClient()
        self.assertIsNot(replacement, client)
        replacement.close()

    def test_other_loop_other_instance(self) -> None:
        client = AsyncHTTPClient()
        other_loop = IOLoop(make_current=False)
        try:

            async def make() -> AsyncHTTPClient:
                return AsyncHTTPClient()  # type: ignore[no-any-return]

            other = other_loop.run_sync(make)
            self.assertIsNot(other, client)
            other.close()
        finally:
            other_loop.close()
            client.close()

    def test_default_implementation(self) -> None:
        AsyncHTTPClient.configure(None)
        client = AsyncHTTPClient(force_instance=True)
        self.assertIsInstance(client, SimpleAsyncHTTPClient)
        client.close()

    def test_configure_kwargs(self) -> None:
        AsyncHTTPClient.configure(
            "tornado.simple_httpclient.SimpleAsyncHTTPClient",
            max_clients=3,
            defaults=dict(user_agent="Configured"),
        )
        client = AsyncHTTPClient(force_instance=True)
        try:
            assert isinstance(client, SimpleAsyncHTTPClient)
            self.assertEqual(client.max_clients, 3)
            self.assertEqual(client.defaults["user_agent"], "Configured")
            self.assertEqual(client.defaults["connect_timeout"], 20.0)
        finally:
            client.close()
        client = AsyncHTTPClient(force_instance=True, max_clients=7)
        assert isinstance(client, SimpleAsyncHTTPClient)
        self.assertEqual(client.max_clients, 7)
        client.close()

    def test_configure_rejects_other_classes(self) -> None:
        with self.assertRaises(ValueError):
            AsyncHTTPClient.configure(dict)  # type: ignore[arg-type]

    def test_fetch_impl_is_abstract(self) -> None:
        class Incomplete(AsyncHTTPClient):
            pass

        client = Incomplete(force_instance=True)
        with self.assertRaises(NotImplementedError):
            client.fetch("http://example.com/")
        client.close()


class ThreadedServer:
    """A LoopbackServer running on its own event loop in a separate thread."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            async def start() -> None:
                self.server = LoopbackServer(handlers)

            self.loop.run_until_complete(start())
            # Report readiness from inside run_forever, so that a stop()
            # request cannot be consumed by run_until_complete above.
            self.loop.call_soon(started.set)
            self.loop.run_forever()
            self.loop.run_until_complete(self.server.close())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(5)

    def url(self, path: str) -> str:
        return self.server.url(path)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class SyncHTTPClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.server = ThreadedServer({"/hello": hello, "/status": status})
        self.url = self.server.url
        self.http_client = HTTPClient()

    def tearDown(self) -> None:
        self.http_client.close()
        self.server.stop()

    def test_fetch(self) -> None:
        response = self.http_client.fetch(self.url("/hello"))
        self.assertEqual(response.body, b"Hello world!")

    def test_error(self) -> None:
        with self.assertRaises(HTTPClientError) as cm:
            self.http_client.fetch(self.url("/status?code=404"))
        self.assertEqual(cm.exception.code, 404)
        response = self.http_client.fetch(
            self.url("/status?code=404"), raise_error=False
        )
        self.assertEqual(response.code, 404)

    def test_close(self) -> None:
        self.http_client.close()
        self.http_client.close()
        with self.assertRaisesRegex(RuntimeError, "closed"):
            self.http_client.fetch(self.url("/hello"))

    def test_explicit_async_class(self) -> None:
        client = HTTPClient(SimpleAsyncHTTPClient, max_clients=2)
        try:
            self.assertEqual(client.fetch(self.url("/hello")).code, 200)
        finally:
            client.close()

    def test_refuses_running_loop(self) -> None:
        async def use_inside_loop() -> None:
            with self.assertRaisesRegex(RuntimeError, "event loop is running"):
                HTTPClient()
            with self.assertRaisesRegex(RuntimeError, "event loop is running"):
                self.http_client.fetch(self.url("/hello"))

        asyncio.run(use_inside_loop())

    def test_command_line(self) -> None:
        def run(*args: str) -> bytes:
            result = subprocess.run(
                [sys.executable, "-m", "tornado.httpclient", *args],
                capture_output=True,
                env=dict(os.environ, PYTHONPATH=REPO_ROOT),
                timeout=30,
            )
            self.assertEqual(result.returncode, 0, result.stderr)
            return result.stdout

        output = run("--print_headers", self.url("/hello"))
        self.assertIn(b"Content-Type: text/plain", output)
        self.assertIn(b"Hello world!", output)
        output = run("--print_body=false", self.url("/status?code=404"))
        self.assertNotIn(b"status 404", output)


class SimpleHTTPClientCommonTest(HTTPClientCommonTests, ClientTestCase):
    client_class = SimpleAsyncHTTPClient


@unittest.skipIf(pycurl is None, "pycurl is not installed")
class CurlHTTPClientCommonTest(HTTPClientCommonTests, ClientTestCase):

    def setUp(self) -> None:
        from tornado.curl_httpclient import CurlAsyncHTTPClient

        self.client_class = CurlAsyncHTTPClient
        super().setUp()
