"""Tests specific to tornado.curl_httpclient (shared ones are in httpclient_test)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unittest
from typing import Any

from tornado.httpclient import HTTPClientError, HTTPRequest, HTTPResponse
from tornado.httputil import HTTPServerRequest
from tornado.locks import Event
from tornado.test.httpclient_test import (
    ClientTestCase,
    Handler,
    LoopbackServer,
    RawServer,
    echo,
    respond,
)
from tornado.testing import ExpectLog, gen_test

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
        respond(request, 401, headers={"WWW-Authenticate": challenge})
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
        respond(request, body="ok")
    else:
        respond(request, 403, body="bad digest")


async def proxy(request: HTTPServerRequest) -> None:
    """Pretend to be a forward proxy: describe the request it received."""
    if (request.uri or "").startswith("http://"):
        await echo(request)
    else:
        respond(request, 400, body="not a proxy request")


async def proxy_digest(request: HTTPServerRequest) -> None:
    if "Proxy-Authorization" not in request.headers:
        challenge = f'Digest realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}"'
        respond(request, 407, headers={"Proxy-Authenticate": challenge})
    else:
        await echo(request)


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
        self.assertEqual(client.max_body_size, 5)

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
