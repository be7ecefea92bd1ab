"""The default, pure-Python `.AsyncHTTPClient` implementation.

`SimpleAsyncHTTPClient` opens one connection per request (no keep-alive)
with `.TCPClient` and speaks HTTP/1.1 through `.HTTP1Connection`. It
supports TLS, redirects, streaming in both directions (``body_producer``
and ``streaming_callback``), ``Expect: 100-continue`` and gzip responses,
but not proxies or digest authentication (use the curl client for those).
"""

from __future__ import annotations

import base64
import collections
import copy
import functools
import re
import socket
import ssl
import sys
import time
import urllib.parse
from asyncio import Future
from collections.abc import Callable
from io import BytesIO
from types import TracebackType
from typing import Any

from tornado import gen, httputil, version
from tornado.escape import to_unicode
from tornado.http1connection import (
    HTTP1Connection,
    HTTP1ConnectionParameters,
    _QuietException,
)
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _check_body_for_method,
    _RequestProxy,
)
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import gen_log
from tornado.netutil import OverrideResolver, Resolver, is_valid_ip
from tornado.tcpclient import TCPClient

__all__ = ["SimpleAsyncHTTPClient", "HTTPTimeoutError", "HTTPStreamClosedError"]

_Callback = Callable[[HTTPResponse], None]

_SUPPORTED_METHODS = frozenset(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
)
_REDIRECT_CODES = frozenset([301, 302, 303, 307, 308])
# Headers describing a body, dropped when a redirect turns the request into GET.
_BODY_HEADERS = (
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Transfer-Encoding",
)
# Headers that carry credentials, not sent on to a different origin.
_CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")
# Request attributes only the curl client implements.
_PROXY_ATTRIBUTES = (
    "proxy_host",
    "proxy_port",
    "proxy_username",
    "proxy_password",
    "proxy_auth_mode",
)


class HTTPTimeoutError(HTTPClientError):
    """A request took longer than its timeout (HTTP code 599).

    The message says which phase ran out of time: ``"Timeout in request
    queue"``, ``"Timeout while connecting"`` or ``"Timeout during request"``.
    """

    def __init__(self, message: str) -> None:
        """Create the error with the given description."""
        super().__init__(599, message=message)

    def __str__(self) -> str:
        """Return the message alone."""
        return self.message or "Timeout"


class HTTPStreamClosedError(HTTPClientError):
    """The connection closed before the response was complete (code 599).

    This covers servers that hang up early as well as responses the client
    could not parse (it closes the connection on those).
    """

    def __init__(self, message: str) -> None:
        """Create the error with the given description."""
        super().__init__(599, message=message)

    def __str__(self) -> str:
        """Return the message alone."""
        return self.message or "Stream closed"


class SimpleAsyncHTTPClient(AsyncHTTPClient):
    """Non-blocking HTTP client with no dependencies beyond Tornado.

    ``max_clients`` limits the number of requests in progress; further ones
    wait in a queue, where they fail with `HTTPTimeoutError` if they wait
    longer than the smaller of their ``connect_timeout`` and
    ``request_timeout``.

    ``hostname_mapping`` maps host names (or ``(host, port)`` pairs) to
    other hosts, like a local ``/etc/hosts``; see `.OverrideResolver`.
    ``resolver`` is the `.Resolver` to use (a default one is created and
    owned otherwise).

    ``max_buffer_size`` (100MB by default) bounds how much data is held in
    memory at once; ``max_body_size`` (defaults to ``max_buffer_size``) is
    the largest accepted response body, which may be larger than the buffer
    when a ``streaming_callback`` consumes it. ``max_header_size`` bounds
    the response headers (64KB by default).
    """

    def initialize(  # type: ignore[override]
        self,
        max_clients: int = 10,
        hostname_mapping: dict[str, str] | None = None,
        max_buffer_size: int = 104857600,
        resolver: Resolver | None = None,
        defaults: dict[str, Any] | None = None,
        max_header_size: int | None = None,
        max_body_size: int | None = None,
    ) -> None:
        """Set the client's limits and create its resolver and `.TCPClient`."""
        super().initialize(defaults=defaults)
        self.max_clients = max_clients
        """How many requests may be in progress at once."""
        self.queue: collections.deque[tuple[object, HTTPRequest, _Callback]] = (
            collections.deque()
        )
        """Requests waiting for a free slot, as ``(key, request, callback)``."""
        self.active: dict[object, tuple[HTTPRequest, _Callback]] = {}
        """Requests in progress, by key."""
        self.waiting: dict[object, tuple[HTTPRequest, _Callback, object | None]] = {}
        """Queued requests by key, with the handle of their queue timeout."""
        self.max_buffer_size = max_buffer_size
        """Largest amount of data buffered for one connection."""
        self.max_header_size = max_header_size
        """Largest accepted response header block, or None for the default."""
        self.max_body_size = max_body_size
        """Largest accepted response body, or None to use the buffer size."""
        self.own_resolver = resolver is None
        """Whether the resolver was created by (and is closed with) this client."""
        self.resolver: Resolver = Resolver() if resolver is None else resolver
        """The `.Resolver` used to look up host names."""
        if hostname_mapping is not None:
            self.resolver = OverrideResolver(
                resolver=self.resolver, mapping=hostname_mapping
            )
        self.tcp_client = TCPClient(resolver=self.resolver)
        """The `.TCPClient` that opens connections."""

    def close(self) -> None:
        """Close the client, and its resolver if the client created it."""
        if self._closed:
            return
        super().close()
        if self.own_resolver:
            self.resolver.close()
        self.tcp_client.close()

    def fetch_impl(self, request: HTTPRequest, callback: _Callback) -> None:
        """Start ``request`` now, or queue it if ``max_clients`` are busy."""
        key = object()
        self.queue.append((key, request, callback))
        timeout_handle = None
        if len(self.active) >= self.max_clients:
            timeout = _shortest_timeout(
                request.connect_timeout, request.request_timeout
            )
            if timeout:
                timeout_handle = self.io_loop.add_timeout(
                    self.io_loop.time() + timeout,
                    functools.partial(self._on_timeout, key, "in request queue"),
                )
        self.waiting[key] = (request, callback, timeout_handle)
        self._process_queue()
        if self.queue:
            gen_log.debug(
                "max_clients limit reached, request queued. "
                "%d active, %d queued requests.",
                len(self.active),
                len(self.queue),
            )

    def _process_queue(self) -> None:
        while self.queue and len(self.active) < self.max_clients:
            key, request, callback = self.queue.popleft()
            if key not in self.waiting:
                continue  # already failed with a queue timeout
            self._remove_timeout(key)
            self.active[key] = (request, callback)
            release_callback = functools.partial(self._release_fetch, key)
            self._handle_request(request, release_callback, callback)

    def _connection_class(self) -> type:
        return _HTTPConnection

    def _handle_request(
        self,
        request: HTTPRequest,
        release_callback: Callable[[], None],
        final_callback: _Callback,
    ) -> None:
        self._connection_class()(
            self,
            request,
            release_callback,
            final_callback,
            self.max_buffer_size,
            self.tcp_client,
            self.max_header_size,
            self.max_body_size,
        )

    def _release_fetch(self, key: object) -> None:
        del self.active[key]
        self._process_queue()

    def _remove_timeout(self, key: object) -> None:
        if key in self.waiting:
            _, _, timeout_handle = self.waiting.pop(key)
            if timeout_handle is not None:
                self.io_loop.remove_timeout(timeout_handle)

    def _on_timeout(self, key: object, info: str | None = None) -> None:
        """Fail a request that waited in the queue for too long."""
        request, callback, _ = self.waiting.pop(key)
        self.queue.remove((key, request, callback))
        message = f"Timeout {info}" if info else "Timeout"
        response = HTTPResponse(
            request,
            599,
            error=HTTPTimeoutError(message),
            request_time=time.time() - request.start_time,
        )
        self.io_loop.add_callback(callback, response)


def _shortest_timeout(*timeouts: float | None) -> float | None:
    """The smallest of the timeouts that are set (None/0 mean no limit)."""
    set_timeouts = [t for t in timeouts if t]
    return min(set_timeouts) if set_timeouts else None


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The TLS settings of most requests, made once (loading CAs is slow)."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)


def _origin(url: str) -> tuple[str, str, int | None]:
    """The (scheme, host, port) triple that decides whether credentials travel."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    port = parsed.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parsed.hostname or "").lower(), port


class _HTTPConnection(httputil.HTTPMessageDelegate):
    """One request/response exchange on its own connection.

    Created by the client once the request leaves the queue; it connects,
    sends the request, receives the response through the
    `.HTTPMessageDelegate` interface and finally calls ``final_callback``
    with the `.HTTPResponse` (once, whatever happens). ``release_callback``
    tells the client the slot is free again. The WebSocket client builds on
    this class.
    """

    _SUPPORTED_METHODS = _SUPPORTED_METHODS

    def __init__(
        self,
        client: SimpleAsyncHTTPClient | None,
        request: HTTPRequest,
        release_callback: Callable[[], None],
        final_callback: _Callback,
        max_buffer_size: int,
        tcp_client: TCPClient,
        max_header_size: int | None,
        max_body_size: int | None,
    ) -> None:
        self.io_loop = IOLoop.current()
        self.start_time = self.io_loop.time()
        self.start_wall_time = time.time()
        self.client = client
        self.request = request
        self.release_callback: Callable[[], None] | None = release_callback
        self.final_callback: _Callback | None = final_callback
        self.max_buffer_size = max_buffer_size
        self.tcp_client = tcp_client
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        self.code: int | None = None
        self.reason: str | None = None
        self.headers: httputil.HTTPHeaders | None = None
        self.chunks: list[bytes] = []
        self._timeout: object | None = None
        self._sockaddr: Any = None
        self.io_loop.add_future(gen.convert_yielded(self.run()), lambda f: f.result())

    async def run(self) -> None:
        """Connect, send the request and read the response."""
        try:
            parsed = urllib.parse.urlsplit(to_unicode(self.request.url))
            if parsed.scheme not in ("http", "https"):
                raise ValueError(f"Unsupported url scheme: {self.request.url}")
            self.parsed = parsed
            host_port = parsed.netloc.rpartition("@")[-1]
            host, port = httputil.split_host_and_port(host_port)
            if port is None:
                port = 443 if parsed.scheme == "https" else 80
            if re.match(r"^\[.*\]$", host):
                host = host[1:-1]  # IPv6 literal
            self._check_request()
            self.stream = await self._connect(host, port)
            self.stream.set_close_callback(self.on_connection_close)
            if self.request.request_timeout:
                self._timeout = self.io_loop.add_timeout(
                    self.start_time + self.request.request_timeout,
                    functools.partial(self._on_timeout, "during request"),
                )
            self._prepare_headers(parsed, host_port)
            self.connection = self._create_connection(self.stream)
            path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
            start_line = httputil.RequestStartLine(self.request.method, path, "")
            self.connection.write_headers(start_line, self.request.headers)
            if self.request.expect_100_continue:
                # The body is sent from headers_received on "100 Continue".
                await self.connection.read_response(self)
            else:
                await self._write_body(True)
        except Exception:
            if not self._handle_exception(*sys.exc_info()):
                raise

    def _check_request(self) -> None:
        """Reject requests this client cannot make, before connecting."""
        request = self.request
        if (
            request.method not in self._SUPPORTED_METHODS
            and not request.allow_nonstandard_methods
        ):
            raise KeyError(f"unknown method {request.method}")
        for name in _PROXY_ATTRIBUTES:
            if getattr(request, name, None):
                raise NotImplementedError(f"{name} not supported")
        if request.auth_mode not in (None, "basic"):
            raise ValueError(f"unsupported auth_mode {request.auth_mode}")
        if request.network_interface and not is_valid_ip(request.network_interface):
            raise ValueError(
                "Unrecognized IPv4 or IPv6 address for network_interface, "
                f"got {request.network_interface!r}"
            )
        _check_body_for_method(request)

    async def _connect(self, host: str, port: int) -> IOStream:
        """Open the connection within the connect and request timeouts."""
        timeout = _shortest_timeout(
            self.request.connect_timeout, self.request.request_timeout
        )
        try:
            return await self.tcp_client.connect(
                host,
                port,
                af=(
                    socket.AF_INET
                    if self.request.allow_ipv6 is False
                    else socket.AF_UNSPEC
                ),
                ssl_options=self._get_ssl_options(self.parsed.scheme),
                max_buffer_size=self.max_buffer_size,
                source_ip=self.request.network_interface or None,
                timeout=timeout,
            )
        except TimeoutError:
            raise HTTPTimeoutError("Timeout while connecting") from None

    def _get_ssl_options(self, scheme: str) -> None | dict[str, Any] | ssl.SSLContext:
        """TLS settings for an https URL (None for plain http)."""
        if scheme != "https":
            return None
        request = self.request
        if request.ssl_options is not None:
            return request.ssl_options
        if (
            request.validate_cert
            and request.ca_certs is None
            and request.client_cert is None
        ):
            return _default_ssl_context()
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH, cafile=request.ca_certs
        )
        if not request.validate_cert:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if request.client_cert is not None:
            context.load_cert_chain(request.client_cert, request.client_key)
        return context

    def _prepare_headers(
        self, parsed: urllib.parse.SplitResult, host_port: str
    ) -> None:
        """Fill in the headers the request needs on the wire."""
        request = self.request
        headers = request.headers
        headers.setdefault("Connection", "close")
        headers.setdefault("Host", host_port)
        username: str | None
        if parsed.username is not None:
            username, password = parsed.username, parsed.password or ""
        else:
            username, password = request.auth_username, request.auth_password or ""
        if username is not None:
            credentials = httputil.encode_username_password(username, password)
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
        if request.user_agent:
            headers["User-Agent"] = request.user_agent
        elif headers.get("User-Agent") is None:
            headers["User-Agent"] = f"Tornado/{version}"
        if request.expect_100_continue:
            headers["Expect"] = "100-continue"
        if request.body is not None:
            # With a body_producer the caller sets Content-Length, or the
            # body goes out chunked.
            headers["Content-Length"] = str(len(request.body))
        if request.method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request.decompress_response:
            headers["Accept-Encoding"] = "gzip"

    def _create_connection(self, stream: IOStream) -> HTTP1Connection:
        stream.set_nodelay(True)
        params = HTTP1ConnectionParameters(
            no_keep_alive=True,
            max_header_size=self.max_header_size,
            max_body_size=self.max_body_size,
            decompress=bool(self.request.decompress_response),
        )
        return HTTP1Connection(stream, True, params, self._sockaddr)

    async def _write_body(self, start_read: bool) -> None:
        if self.request.body is not None:
            self.connection.write(self.request.body)
        elif self.request.body_producer is not None:
            produced = self.request.body_producer(self.connection.write)
            if produced is not None:
                await produced
        self.connection.finish()
        if start_read:
            try:
                await self.connection.read_response(self)
            except StreamClosedError:
                if not self._handle_exception(*sys.exc_info()):
                    raise

    def _release(self) -> None:
        if self.release_callback is not None:
            release_callback, self.release_callback = self.release_callback, None
            release_callback()

    def _run_callback(self, response: HTTPResponse) -> None:
        self._release()
        if self.final_callback is not None:
            final_callback, self.final_callback = self.final_callback, None
            self.io_loop.add_callback(final_callback, response)

    def _on_timeout(self, info: str | None = None) -> None:
        """Fail the request because its timeout expired."""
        self._timeout = None
        message = f"Timeout {info}" if info else "Timeout"
        if self.final_callback is not None:
            error = HTTPTimeoutError(message)
            self._handle_exception(HTTPTimeoutError, error, None)

    def _remove_timeout(self) -> None:
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None

    def _handle_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Turn an exception into an error response; False if it must propagate."""
        if self.final_callback is None:
            # The response was already delivered: this error belongs to
            # someone else, unless it is just the stream being closed.
            return isinstance(value, StreamClosedError)
        self._remove_timeout()
        if isinstance(value, _QuietException) and value.__cause__ is not None:
            # The connection already logged a callback's exception; report
            # the original error to the caller.
            value = value.__cause__
        if isinstance(value, StreamClosedError):
            value = value.real_error or HTTPStreamClosedError("Stream closed")
        self._run_callback(
            HTTPResponse(
                self.request,
                599,
                error=value,
                request_time=self.io_loop.time() - self.start_time,
                start_time=self.start_wall_time,
            )
        )
        if hasattr(self, "stream"):
            self.stream.close()
        return True

    def on_connection_close(self) -> None:
        """Fail the request if the connection closes before it completes."""
        if self.final_callback is None:
            return
        if not self.stream.closed():
            # The connection gave up because one of our callbacks raised;
            # that exception reaches run(), which reports it instead.
            return
        error = self.stream.error
        if error is None or isinstance(error, StreamClosedError):
            error = HTTPStreamClosedError("Connection closed")
        self._handle_exception(type(error), error, None)

    async def headers_received(
        self,
        first_line: httputil.ResponseStartLine | httputil.RequestStartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        """Record the status and headers (or send the body on 100 Continue)."""
        assert isinstance(first_line, httputil.ResponseStartLine)
        if self.request.expect_100_continue and first_line.code == 100:
            await self._write_body(False)
            return
        self.code = first_line.code
        self.reason = first_line.reason
        self.headers = headers
        if self._should_follow_redirect():
            return
        header_callback = self.request.header_callback
        if header_callback is not None:
            version_, code, reason = first_line
            header_callback(f"{version_} {code} {reason}\r\n")
            for name, value in headers.get_all():
                header_callback(f"{name}: {value}\r\n")
            header_callback("\r\n")

    def _should_follow_redirect(self) -> bool:
        if not self.request.follow_redirects or self.client is None:
            return False
        return (
            self.code in _REDIRECT_CODES
            and (self.request.max_redirects or 0) > 0
            and self.headers is not None
            and self.headers.get("Location") is not None
        )

    def data_received(self, chunk: bytes) -> None:
        """Collect (or stream out) a piece of the response body."""
        if self._should_follow_redirect():
            return  # the body of a redirect is not interesting
        if self.request.streaming_callback is not None:
            self.request.streaming_callback(chunk)
        else:
            self.chunks.append(chunk)

    def finish(self) -> None:
        """Deliver the complete response, or follow its redirect."""
        assert self.code is not None
        self._remove_timeout()
        original_request = getattr(self.request, "original_request", self.request)
        if self._should_follow_redirect():
            self._follow_redirect(original_request)
        else:
            body = b"" if self.request.streaming_callback else b"".join(self.chunks)
            response = HTTPResponse(
                original_request,
                self.code,
                reason=self.reason,
                headers=self.headers,
                request_time=self.io_loop.time() - self.start_time,
                start_time=self.start_wall_time,
                buffer=BytesIO(body),
                effective_url=self.request.url,
            )
            self._run_callback(response)
        self._on_end_request()

    def _follow_redirect(self, original_request: HTTPRequest) -> None:
        """Fetch the redirect's target; its response becomes this one's."""
        assert isinstance(self.request, _RequestProxy)
        assert self.headers is not None and self.client is not None
        new_request = copy.copy(self.request.request)
        new_request.url = urllib.parse.urljoin(
            self.request.url, self.headers["Location"]
        )
        new_request.max_redirects = (self.request.max_redirects or 0) - 1
        new_request.headers = httputil.HTTPHeaders(self.request.headers)
        del new_request.headers["Host"]
        if self._redirect_drops_body():
            new_request.method = "GET"
            new_request.body = None
            new_request.body_producer = None
            for name in _BODY_HEADERS:
                new_request.headers.pop(name, None)
        if _origin(new_request.url) != _origin(self.request.url):
            new_request.auth_username = new_request.auth_password = None
            for name in _CREDENTIAL_HEADERS:
                new_request.headers.pop(name, None)
        new_request.original_request = original_request  # type: ignore[attr-defined]
        final_callback, self.final_callback = self.final_callback, None
        assert final_callback is not None
        self._release()
        future = self.client.fetch(new_request, raise_error=False)
        future.add_done_callback(
            lambda f: _deliver_outcome(
                f, final_callback, original_request, new_request.url
            )
        )

    def _redirect_drops_body(self) -> bool:
        """Whether the redirect turns the request into a GET without body.

        Like browsers, a POST answered with 301 or 302 is retried as GET;
        303 means "see other" and always leads to a GET (except for HEAD).
        """
        method = self.request.method
        if self.code in (301, 302):
            return method == "POST"
        return self.code == 303 and method != "HEAD"

    def _on_end_request(self) -> None:
        self.stream.close()


def _deliver_outcome(
    future: Future[HTTPResponse],
    final_callback: _Callback,
    request: HTTPRequest,
    url: str,
) -> None:
    """Pass a redirect's result on, turning an exception into a 599 response."""
    error = future.exception()
    if error is None:
        final_callback(future.result())
    else:
        final_callback(HTTPResponse(request, 599, error=error, effective_url=url))
