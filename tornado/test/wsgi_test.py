"""Tests for tornado.wsgi: WSGI applications served over loopback HTTP."""

from __future__ import annotations

import itertools
import json
import logging
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tornado import httputil
from tornado.concurrent import dummy_executor
from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.iostream import IOStream
from tornado.locks import Event
from tornado.log import access_log, app_log
from tornado.test.util import server_request
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, ExpectLog, gen_test
from tornado.wsgi import HTTPRequest, WSGIContainer, to_wsgi_str

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
# How long a worker thread waits for the test's signal before giving up.
THREAD_WAIT = 5.0


def hello_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello", b", ", b"world"]


def environ_app(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Echo the JSON-friendly part of the environ, plus the request body."""
    start_response("200 OK", [("Content-Type", "application/json")])
    echoed: dict[str, Any] = {
        k: v for k, v in environ.items() if isinstance(v, (str, bool, int))
    }
    echoed["body"] = environ["wsgi.input"].read().decode("latin1")
    echoed["wsgi.version"] = list(environ["wsgi.version"])
    echoed["errors_is_stderr"] = environ["wsgi.errors"] is sys.stderr
    return [json.dumps(echoed).encode()]


class ClosingIterable:
    """A response iterable recording whether the server called close()."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        fail_after: int | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.on_close = on_close
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_after:
                raise RuntimeError("broken in the middle")
            yield chunk

    def close(self) -> None:
        self.closed.set()
        if self.on_close is not None:
            self.on_close()


class WSGITestCase(AsyncHTTPTestCase):
    """Serves ``get_wsgi_app()`` on a loopback port for each test."""

    executor: ThreadPoolExecutor | None = None

    def get_wsgi_app(self) -> WSGIApp:
        return hello_app

    def get_app(self) -> WSGIContainer:
        return WSGIContainer(self.get_wsgi_app(), executor=self.executor)

    async def get_response(
        self, path: str, code: int = 200, **kwargs: Any
    ) -> HTTPResponse:
        """Fetch ``path`` expecting ``code`` and its access log line."""
        level = logging.INFO if code < 400 else logging.WARNING
        if code >= 500:
            level = logging.ERROR
        method = kwargs.get("method", "GET")
        expected_line = re.escape(f"{code} {method} {path} ")
        with ExpectLog(access_log, expected_line, level=level):
            response: HTTPResponse = await self.http_client.fetch(
                self.get_url(path), raise_error=False, **kwargs
            )
        self.assertEqual(response.code, code, response.body)
        return response


class BasicResponseTest(WSGITestCase):
    @gen_test
    async def test_list_response_gets_length(self) -> None:
        response = await self.get_response("/")
        self.assertEqual(response.body, b"Hello, world")
        self.assertEqual(response.headers["Content-Length"], "12")
        self.assertEqual(response.headers["Content-Type"], "text/plain")
        self.assertTrue(response.headers["Server"].startswith("TornadoServer/"))
        self.assertNotIn("Transfer-Encoding", response.headers)

    @gen_test
    async def test_head_has_length_but_no_body(self) -> None:
        response = await self.get_response("/", method="HEAD")
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["Content-Length"], "12")


class ResponseVariantsTest(WSGITestCase):
    def get_wsgi_app(self) -> WSGIApp:
        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            path = environ["PATH_INFO"]
            if path == "/empty":
                start_response("200 OK", [])
                return []
            if path == "/one-piece":
                start_response("201 Created", [("X-Kind", "generator")])
                return iter([b"", b"only", b""])
            if path == "/write":
                write = start_response("200 OK", [])
                write(b"written ")
                return [b"returned"]
            if path == "/not-modified":
                start_response("304 Not Modified", [("ETag", '"x"')])
                return []
            if path == "/missing":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"nothing here"]
            if path == "/custom-reason":
                start_response("299 Quite Fine", [("Server", "mine")])
                return [b"ok"]
            if path == "/repeated-header":
                start_response("200 OK", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
                return [b""]
            raise AssertionError(f"unexpected path {path}")

        return app

    @gen_test
    async def test_empty_body(self) -> None:
        response = await self.get_response("/empty")
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["Content-Length"], "0")
        self.assertEqual(response.headers["Content-Type"], "text/html; charset=UTF-8")

    @gen_test
    async def test_iterator_is_chunked(self) -> None:
        response = await self.get_response("/one-piece", code=201)
        self.assertEqual(response.body, b"only")
        self.assertEqual(response.headers["Transfer-Encoding"], "chunked")
        self.assertEqual(response.headers["X-Kind"], "generator")

    @gen_test
    async def test_head_of_streamed_response(self) -> None:
        response = await self.get_response("/one-piece", code=201, method="HEAD")
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers["X-Kind"], "generator")

    @gen_test
    async def test_write_callable(self) -> None:
        response = await self.get_response("/write")
        self.assertEqual(response.body, b"written returned")

    @gen_test
    async def test_not_modified_has_no_length_or_type(self) -> None:
        response = await self.get_response("/not-modified", code=304)
        self.assertNotIn("Content-Length", response.headers)
        self.assertNotIn("Content-Type", response.headers)
        self.assertEqual(response.headers["ETag"], '"x"')

    @gen_test
    async def test_client_error_logged_as_warning(self) -> None:
        response = await self.get_response("/missing", code=404)
        self.assertEqual(response.body, b"nothing here")

    @gen_test
    async def test_custom_reason_and_server(self) -> None:
        response = await self.get_response("/custom-reason", code=299)
        self.assertEqual(response.reason, "Quite Fine")
        self.assertEqual(response.headers["Server"], "mine")

    @gen_test
    async def test_repeated_headers_kept(self) -> None:
        response = await self.get_response("/repeated-header")
        self.assertEqual(response.headers.get_list("Set-Cookie"), ["a=1", "b=2"])


class EnvironTest(WSGITestCase):
    def get_wsgi_app(self) -> WSGIApp:
        return environ_app

    async def environ_of(self, path: str, **kwargs: Any) -> Environ:
        response = await self.get_response(path, **kwargs)
        result: Environ = json.loads(response.body)
        return result

    @gen_test
    async def test_basic_keys(self) -> None:
        environ = await self.environ_of("/some/path?a=1&b=%20")
        self.assertEqual(environ["REQUEST_METHOD"], "GET")
        self.assertEqual(environ["SCRIPT_NAME"], "")
        self.assertEqual(environ["PATH_INFO"], "/some/path")
        self.assertEqual(environ["QUERY_STRING"], "a=1&b=%20")
        self.assertEqual(environ["REMOTE_ADDR"], "127.0.0.1")
        self.assertEqual(environ["SERVER_NAME"], "127.0.0.1")
        self.assertEqual(environ["SERVER_PORT"], str(self.get_http_port()))
        self.assertEqual(environ["SERVER_PROTOCOL"], "HTTP/1.1")
        self.assertEqual(environ["wsgi.url_scheme"], "http")
        self.assertEqual(environ["wsgi.version"], [1, 0])
        self.assertFalse(environ["wsgi.multithread"])
        self.assertTrue(environ["wsgi.multiprocess"])
        self.assertFalse(environ["wsgi.run_once"])
        self.assertTrue(environ["errors_is_stderr"])

    @gen_test
    async def test_path_is_unquoted_latin1_native_string(self) -> None:
        environ = await self.environ_of("/caf%C3%A9/a%2Fb+c")
        self.assertEqual(environ["PATH_INFO"], "/caf\u00c3\u00a9/a/b+c")
        raw = environ["PATH_INFO"].encode("latin1").decode("utf-8")
        self.assertEqual(raw, "/caf\u00e9/a/b+c")

    @gen_test
    async def test_headers_and_body(self) -> None:
        environ = await self.environ_of(
            "/post",
            method="POST",
            body="x=1&y=\u00e9",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Custom-Thing": "value",
            },
        )
        self.assertEqual(environ["REQUEST_METHOD"], "POST")
        self.assertEqual(environ["CONTENT_TYPE"], "application/x-www-form-urlencoded")
        self.assertEqual(environ["CONTENT_LENGTH"], "8")
        self.assertNotIn("HTTP_CONTENT_TYPE", environ)
        self.assertNotIn("HTTP_CONTENT_LENGTH", environ)
        self.assertEqual(environ["HTTP_X_CUSTOM_THING"], "value")
        self.assertEqual(environ["body"], "x=1&y=\u00c3\u00a9")


class EnvironUnitTest(AsyncTestCase):
    """``environ()`` for requests built directly, without a server."""

    def make_environ(self, **kwargs: Any) -> Environ:
        request = server_request(uri="/p?q", **kwargs)
        return WSGIContainer(hello_app).environ(request)

    def test_default_ports_follow_scheme(self) -> None:
        environ = self.make_environ(host="example.com")
        self.assertEqual(
            (environ["SERVER_NAME"], environ["SERVER_PORT"]), ("example.com", "80")
        )

    def test_https_default_port(self) -> None:
        request = server_request(host="example.com")
        request.protocol = "https"
        environ = WSGIContainer(hello_app).environ(request)
        self.assertEqual(environ["SERVER_PORT"], "443")
        self.assertEqual(environ["wsgi.url_scheme"], "https")

    def test_explicit_port(self) -> None:
        environ = self.make_environ(host="example.com:8443")
        self.assertEqual(environ["SERVER_PORT"], "8443")

    def test_ipv6_host(self) -> None:
        environ = self.make_environ(host="[::1]:8000")
        self.assertEqual(
            (environ["SERVER_NAME"], environ["SERVER_PORT"]), ("[::1]", "8000")
        )

    def test_repeated_request_headers_are_joined(self) -> None:
        headers = httputil.HTTPHeaders()
        headers.add("Accept", "a")
        headers.add("Accept", "b")
        environ = self.make_environ(headers=headers)
        self.assertEqual(environ["HTTP_ACCEPT"], "a,b")

    def test_request_is_not_modified(self) -> None:
        headers = httputil.HTTPHeaders({"Content-Type": "text/plain"})
        request = server_request("POST", headers=headers)
        WSGIContainer(hello_app).environ(request)
        self.assertEqual(request.headers["Content-Type"], "text/plain")

    def test_multithread_flag_with_executor(self) -> None:
        request = server_request()
        with ThreadPoolExecutor(1) as executor:
            container = WSGIContainer(hello_app, executor=executor)
            self.assertTrue(container.environ(request)["wsgi.multithread"])
            self.assertIs(container.executor, executor)
        self.assertIs(WSGIContainer(hello_app).executor, dummy_executor)
        self.assertIs(WSGIContainer(hello_app).wsgi_application, hello_app)


class HelpersTest(AsyncTestCase):
    def test_to_wsgi_str(self) -> None:
        self.assertEqual(to_wsgi_str(b"caf\xc3\xa9"), "caf\u00c3\u00a9")
        self.assertEqual(to_wsgi_str(b"\xff"), "\u00ff")

    def test_http_request_alias(self) -> None:
        self.assertIs(HTTPRequest, httputil.HTTPServerRequest)


class ApplicationErrorTest(WSGITestCase):
    def setUp(self) -> None:
        self.iterables: list[ClosingIterable] = []
        super().setUp()

    def get_wsgi_app(self) -> WSGIApp:
        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            path = environ["PATH_INFO"]
            if path == "/raise":
                raise ValueError("application bug")
            if path == "/no-start":
                return [b"body"]
            if path == "/crlf":
                start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: pwned=1")])
            if path == "/bad-status":
                start_response("two hundred", [])
            if path == "/bytes-header":
                start_response("200 OK", [(b"X-Bytes", b"1")])
            if path == "/str-body":
                start_response("200 OK", [])
                return ["text"]  # type: ignore[list-item]
            if path == "/twice":
                start_response("200 OK", [])
                start_response("200 OK", [])
            if path == "/exc-info":
                start_response("200 OK", [])
                try:
                    raise KeyError("while producing the body")
                except KeyError:
                    start_response("503 Busy", [], sys.exc_info())
                return [b"recovered"]
            if path in ("/fail-first", "/fail-later"):
                start_response("200 OK", [("Content-Type", "text/plain")])
                fail_after = 0 if path == "/fail-first" else 2
                iterable = ClosingIterable([b"a", b"b", b"c"], fail_after)
                self.iterables.append(iterable)
                return iterable
            raise AssertionError(f"unexpected path {path}")

        return app

    async def fetch_failing(self, path: str) -> HTTPResponse:
        with ExpectLog(
            app_log, "Uncaught exception in WSGI application", level=logging.ERROR
        ):
            return await self.get_response(path, code=500)

    @gen_test
    async def test_exception_gives_500(self) -> None:
        response = await self.fetch_failing("/raise")
        self.assertIn(b"500: Internal Server Error", response.body)
        self.assertNotIn(b"application bug", response.body)

    @gen_test
    async def test_missing_start_response(self) -> None:
        await self.fetch_failing("/no-start")

    @gen_test
    async def test_header_with_line_break_is_refused(self) -> None:
        response = await self.fetch_failing("/crlf")
        self.assertNotIn("Set-Cookie", response.headers)
        self.assertNotIn("X-Evil", response.headers)

    @gen_test
    async def test_bad_status(self) -> None:
        await self.fetch_failing("/bad-status")

    @gen_test
    async def test_bytes_header(self) -> None:
        await self.fetch_failing("/bytes-header")

    @gen_test
    async def test_str_body(self) -> None:
        await self.fetch_failing("/str-body")

    @gen_test
    async def test_start_response_twice(self) -> None:
        await self.fetch_failing("/twice")

    @gen_test
    async def test_exc_info_replaces_unsent_status(self) -> None:
        response = await self.get_response("/exc-info", code=503)
        self.assertEqual(response.body, b"recovered")

    @gen_test
    async def test_failure_before_first_chunk_gives_500_and_closes(self) -> None:
        await self.fetch_failing("/fail-first")
        self.assertTrue(self.iterables[0].closed.is_set())

    @gen_test
    async def test_failure_mid_stream_drops_connection(self) -> None:
        with ExpectLog(
            app_log, "Uncaught exception in WSGI application", level=logging.ERROR
        ):
            with self.assertRaises((HTTPClientError, OSError)):
                await self.http_client.fetch(self.get_url("/fail-later"))
        self.assertTrue(self.iterables[0].closed.is_set())


class ExcInfoAfterHeadersTest(WSGITestCase):
    """start_response(exc_info) after the headers went out re-raises."""

    def get_wsgi_app(self) -> WSGIApp:
        def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
            start_response("200 OK", [])
            yield b"first"
            yield b"second"
            try:
                raise KeyError("late")
            except KeyError:
                start_response("500 Oops", [], sys.exc_info())
            yield b"never sent"

        return app

    @gen_test
    async def test_reraised(self) -> None:
        with ExpectLog(
            app_log, "Uncaught exception in WSGI application", level=logging.ERROR
        ):
            with self.assertRaises((HTTPClientError, OSError)):
                await self.http_client.fetch(self.get_url("/"))


class StreamingTest(WSGITestCase):
    """Chunks reach the client while the application is still producing."""

    def setUp(self) -> None:
        self.executor = self.pool = ThreadPoolExecutor(2)
        self.first_chunk_seen = threading.Event()
        self.endless_closed = Event()
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self.first_chunk_seen.set()
        self.pool.shutdown(wait=True)

    def get_wsgi_app(self) -> WSGIApp:
        def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            if environ["PATH_INFO"] == "/endless":
                return ClosingIterable(
                    itertools.repeat(b"x" * 1000),
                    on_close=lambda: self.io_loop.add_callback(self.endless_closed.set),
                )
            return self.stream_after_client_saw_first_chunk()

        return app

    def stream_after_client_saw_first_chunk(self) -> Iterator[bytes]:
        yield b"first;"
        if not self.first_chunk_seen.wait(THREAD_WAIT):
            yield b"not streamed;"
        yield b"second"

    @gen_test
    async def test_chunks_are_streamed(self) -> None:
        received: list[bytes] = []

        def on_chunk(chunk: bytes) -> None:
            received.append(chunk)
            if b"".join(received).startswith(b"first;"):
                self.first_chunk_seen.set()

        response = await self.get_response("/", streaming_callback=on_chunk)
        self.assertEqual(b"".join(received), b"first;second")
        self.assertEqual(response.headers["Transfer-Encoding"], "chunked")
        self.assertNotIn("Content-Length", response.headers)

    @gen_test
    async def test_client_disconnect_closes_iterable(self) -> None:
        stream = IOStream(socket.socket())
        await stream.connect(("127.0.0.1", self.get_http_port()))
        await stream.write(b"GET /endless HTTP/1.1\r\nHost: test\r\n\r\n")
        await stream.read_until(b"\r\n\r\n")
        await stream.read_bytes(100, partial=True)
        stream.close()
        await self.endless_closed.wait(timeout=self.io_loop.time() + THREAD_WAIT)


class ExecutorConcurrencyTest(WSGITestCase):
    """With an executor, a blocked application does not block the others."""

    def setUp(self) -> None:
        self.executor = self.pool = ThreadPoolExecutor(2)
        self.release = threading.Event()
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self.release.set()
        self.pool.shutdown(wait=True)

    def get_wsgi_app(self) -> WSGIApp:
        def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
            if environ["PATH_INFO"] == "/wait":
                released = self.release.wait(THREAD_WAIT)
                start_response("200 OK", [])
                return [b"released" if released else b"timed out"]
            self.release.set()
            start_response("200 OK", [])
            return [str(environ["wsgi.multithread"]).encode()]

        return app

    @gen_test
    async def test_requests_run_concurrently(self) -> None:
        # One capture for both: overlapping ExpectLogs on a logger would
        # restore its level while the other request is still running.
        with ExpectLog(access_log, "200 GET /(wait|release) ", level=logging.INFO):
            waiting = self.http_client.fetch(self.get_url("/wait"))
            releasing = await self.http_client.fetch(self.get_url("/release"))
            self.assertEqual(releasing.body, b"True")
            self.assertEqual((await waiting).body, b"released")
