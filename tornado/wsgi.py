"""Run WSGI applications (Flask, Django, ...) on Tornado's HTTP server.

`WSGIContainer` adapts a :pep:`3333` application into a request callback for
``tornado.httpserver.HTTPServer``::

    def simple_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello world!\\n"]

    async def main():
        container = tornado.wsgi.WSGIContainer(simple_app)
        http_server = tornado.httpserver.HTTPServer(container)
        http_server.listen(8888)
        await asyncio.Event().wait()

WSGI is a synchronous interface. By default the application runs on the
event loop's thread, so while it works nothing else is served; that suits
quick applications. Pass a ``concurrent.futures.ThreadPoolExecutor`` as
``executor`` to run the application (and the iteration over its response)
on worker threads instead, keeping the loop free.

The container can also sit behind ``tornado.web.FallbackHandler`` to mix a
WSGI application with Tornado handlers in one server.
"""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from concurrent import futures
from io import BytesIO
from typing import (
    Any,
    TypeVar,
)

import tornado
from tornado import escape, httputil
from tornado.concurrent import Future, dummy_executor
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError
from tornado.log import _access_level, access_log, app_log

__all__ = ["WSGIContainer", "HTTPRequest", "to_wsgi_str"]

HTTPRequest = httputil.HTTPServerRequest

_T = TypeVar("_T")
_ExcInfo = tuple[
    type[BaseException] | None,
    BaseException | None,
    types.TracebackType | None,
]
_WriteCallable = Callable[[bytes], None]
_StartResponse = Callable[..., _WriteCallable]
WSGIAppType = Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]

_END = object()
_ERROR_PAGE = (
    b"<html><title>500: Internal Server Error</title>"
    b"<body>500: Internal Server Error</body></html>"
)


def to_wsgi_str(s: bytes) -> str:
    """Turn raw bytes into a WSGI "native string" (each byte one code point).

    :pep:`3333` passes request data such as ``PATH_INFO`` as ``str`` decoded
    with latin-1, so the original bytes can always be recovered.
    """
    assert isinstance(s, bytes)
    return s.decode("latin1")


class WSGIContainer:
    """An ``HTTPServer`` request callback that runs a WSGI application.

    ``executor`` is a `concurrent.futures.Executor` on which the application
    and the iteration over its response run; by default they run directly on
    the event loop's thread. A response body given as a list or tuple is
    sent whole with a ``Content-Length``; any other iterable is streamed to
    the client as the application produces it. An exception from the application is
    logged to ``tornado.application`` and answered with a 500 error.
    """

    def __init__(
        self,
        wsgi_application: WSGIAppType,
        executor: futures.Executor | None = None,
    ) -> None:
        """Wrap ``wsgi_application``, optionally running it on ``executor``."""
        #: The wrapped WSGI application callable.
        self.wsgi_application = wsgi_application
        #: Where the application runs (``tornado.concurrent.dummy_executor``,
        #: meaning "inline on the loop's thread", when none was given).
        self.executor: futures.Executor = (
            dummy_executor if executor is None else executor
        )

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        """Start serving ``request``; the response is sent asynchronously."""
        IOLoop.current().spawn_callback(self.handle_request, request)

    async def handle_request(self, request: httputil.HTTPServerRequest) -> None:
        """Run the application for ``request`` and send its response."""
        response = _ResponseState(request)
        try:
            await self._run_application(request, response)
        except StreamClosedError:
            return  # the client went away; nothing left to tell it
        except Exception:
            app_log.error(
                "Uncaught exception in WSGI application: %s %s",
                request.method,
                request.uri,
                exc_info=True,
            )
            if response.headers_sent:
                response.abort()
                return
            response.send_error_page()
        self._log(response.code, request)

    def environ(self, request: httputil.HTTPServerRequest) -> dict[str, Any]:
        """Build the :pep:`3333` ``environ`` dict describing ``request``."""
        environ = dict(_SERVER_TRAITS)
        environ.update(_cgi_variables(request))
        environ["wsgi.url_scheme"] = request.protocol
        environ["wsgi.input"] = BytesIO(escape.utf8(request.body))
        environ["wsgi.errors"] = sys.stderr
        # Only the dummy executor runs applications on the loop's own thread.
        environ["wsgi.multithread"] = self.executor is not dummy_executor
        environ.update((_environ_key(k), v) for k, v in request.headers.items())
        return environ

    async def _run_application(
        self, request: httputil.HTTPServerRequest, response: _ResponseState
    ) -> None:
        app_iter = await self._call(
            self.wsgi_application, self.environ(request), response.start_response
        )
        try:
            if isinstance(app_iter, (list, tuple)):
                # Already complete in memory: send it whole, with a length.
                pieces = [*response.take_written(), *app_iter]
                response.send_complete(b"".join(map(_checked_chunk, pieces)))
            else:
                await self._stream(app_iter, response)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()

    async def _stream(
        self, app_iter: Iterable[bytes], response: _ResponseState
    ) -> None:
        chunks = self._chunks(app_iter, response)
        try:
            await response.stream(chunks)
        finally:
            await chunks.aclose()

    async def _chunks(
        self, app_iter: Iterable[bytes], response: _ResponseState
    ) -> AsyncGenerator[bytes, None]:
        """The body in order: data given to ``write()``, then the items."""
        iterator = iter(app_iter)
        while True:
            chunk = await self._call(next, iterator, _END)
            for written in response.take_written():
                yield written
            if chunk is _END:
                return
            yield _checked_chunk(chunk)

    async def _call(self, func: Callable[..., _T], *args: Any) -> _T:
        if self.executor is dummy_executor:
            return func(*args)  # skip a needless trip through the loop
        return await IOLoop.current().run_in_executor(self.executor, func, *args)

    def _log(self, status_code: int, request: httputil.HTTPServerRequest) -> None:
        level = _access_level(status_code)
        if not access_log.isEnabledFor(level):
            return
        summary = f"{request.method} {request.uri} ({request.remote_ip})"
        milliseconds = 1000.0 * request.request_time()
        access_log.log(level, "%d %s %.2fms", status_code, summary, milliseconds)


class _ResponseState:
    """What the application said about its response, and what was sent."""

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        self.request = request
        self.code = 500
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.started = False
        self.headers_sent = False
        self._written: list[bytes] = []

    @property
    def connection(self) -> httputil.HTTPConnection:
        assert self.request.connection is not None
        return self.request.connection

    def start_response(
        self,
        status: str,
        response_headers: list[tuple[str, str]],
        exc_info: _ExcInfo | None = None,
    ) -> _WriteCallable:
        """The ``start_response`` callable handed to the application."""
        if exc_info is not None:
            if self.headers_sent and exc_info[1] is not None:
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.started:
            raise RuntimeError("start_response called twice without exc_info")
        self.code, self.reason = _parse_status(status)
        self.headers = [_checked_header(header) for header in response_headers]
        self.started = True
        return self._write

    def _write(self, data: bytes) -> None:
        """The legacy ``write()`` callable returned by ``start_response``."""
        self._written.append(_checked_chunk(data))

    def take_written(self) -> list[bytes]:
        """Return and forget the data the application passed to ``write()``."""
        taken, self._written = self._written, []
        return taken

    async def stream(self, chunks: AsyncIterator[bytes]) -> None:
        """Send each chunk as soon as the application produces it.

        As :pep:`3333` asks, the headers wait for the first non-empty chunk.
        Unless the application set ``Content-Length``, the body is chunked
        (or, for HTTP/1.0, ended by closing the connection).
        """
        first = await _next_non_empty(chunks)
        if not first:
            self.send_complete(b"")
            return
        await self._send_headers(first, content_length=None)
        async for chunk in chunks:
            if chunk:
                await self.connection.write(self._body_chunk(chunk))
        self.connection.finish()

    def send_error_page(self) -> None:
        """Answer with a 500 error (the application failed before replying)."""
        self.code, self.reason = 500, "Internal Server Error"
        self.headers = [("Content-Type", "text/html; charset=UTF-8")]
        self.started = True
        self.send_complete(_ERROR_PAGE)

    def abort(self) -> None:
        """Drop the connection; a partly sent body can't be completed."""
        close = getattr(self.connection, "close", None)
        if close is not None:
            close()

    def send_complete(self, body: bytes) -> None:
        """Send the whole response at once, with a ``Content-Length``."""
        future = self._send_headers(body, content_length=len(body))
        future.add_done_callback(_retrieve_exception)
        self.connection.finish()

    def _send_headers(
        self, first_chunk: bytes, content_length: int | None
    ) -> Future[None]:
        if not self.started:
            raise RuntimeError("WSGI application did not call start_response")
        self.headers_sent = True
        start_line = httputil.ResponseStartLine("HTTP/1.1", self.code, self.reason)
        headers = self._response_headers(content_length)
        return self.connection.write_headers(
            start_line, headers, chunk=self._body_chunk(first_chunk)
        )

    def _response_headers(self, content_length: int | None) -> httputil.HTTPHeaders:
        present = {name.lower() for name, _ in self.headers}
        extra: list[tuple[str, str]] = []
        if self.code != 304:
            if content_length is not None and "content-length" not in present:
                extra.append(("Content-Length", str(content_length)))
            if "content-type" not in present:
                extra.append(("Content-Type", "text/html; charset=UTF-8"))
        if "server" not in present:
            extra.append(("Server", f"TornadoServer/{tornado.version}"))
        headers = httputil.HTTPHeaders()
        for name, value in [*self.headers, *extra]:
            headers.add(name, value)
        return headers

    def _body_chunk(self, chunk: bytes) -> bytes:
        # These responses have no body on the wire, but the headers
        # (Content-Length included) still describe the full response.
        if self.request.method == "HEAD" or self.code in (204, 304):
            return b""
        return chunk


async def _next_non_empty(chunks: AsyncIterator[bytes]) -> bytes:
    """The next non-empty chunk, or ``b""`` at the end of the body."""
    async for chunk in chunks:
        if chunk:
            return chunk
    return b""


def _retrieve_exception(future: Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # a closed connection is noticed elsewhere


# The environ entries that are the same for every request (PEP 3333): this
# server may run in several processes, and serves more than one request.
_SERVER_TRAITS: dict[str, Any] = {
    "wsgi.version": (1, 0),
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


def _cgi_variables(request: httputil.HTTPServerRequest) -> dict[str, str | None]:
    """The CGI variables of ``request``; the application is mounted at the root."""
    server_name, port = httputil.split_host_and_port(request.host)
    if port is None:
        port = _DEFAULT_PORTS.get(request.protocol, 80)
    raw_path = escape.url_unescape(request.path, encoding=None, plus=False)
    return {
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": request.version,
        "REMOTE_ADDR": request.remote_ip,
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": to_wsgi_str(raw_path),
        "QUERY_STRING": request.query,
    }


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _environ_key(header_name: str) -> str:
    key = header_name.upper().replace("-", "_")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key
    return "HTTP_" + key


def _parse_status(status: str) -> tuple[int, str]:
    if not isinstance(status, str):
        raise TypeError(f"WSGI status must be a str, got {type(status).__name__}")
    code_text, _, reason = status.partition(" ")
    if len(code_text) != 3 or not code_text.isdigit():
        raise ValueError(f"invalid WSGI status line {status!r}")
    _reject_line_breaks(reason, "status")
    return int(code_text), reason


def _checked_header(header: tuple[str, str]) -> tuple[str, str]:
    name, value = header
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"WSGI response header must be a pair of str, got {header!r}")
    _reject_line_breaks(name + value, "header")
    return name, value


def _reject_line_breaks(text: str, what: str) -> None:
    # A CR or LF would let the application split the response.
    if "\r" in text or "\n" in text or "\0" in text:
        raise ValueError(f"line break in WSGI response {what}: {text!r}")


def _checked_chunk(chunk: object) -> bytes:
    if not isinstance(chunk, bytes):
        raise TypeError(f"WSGI response body must be bytes, got {type(chunk).__name__}")
    return chunk
