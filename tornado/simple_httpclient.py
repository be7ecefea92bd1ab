"""The default, pure-Python `.AsyncHTTPClient` implementation.

`SimpleAsyncHTTPClient` opens one connection per request (no keep-alive)
with `.TCPClient` and speaks HTTP/1.1 through `.HTTP1Connection`. It
supports TLS, redirects, streaming in both directions (``body_producer``
and ``streaming_callback``), ``Expect: 100-continue`` and gzip responses,
but not proxies or digest authentication (use the curl client for those).
Requests beyond ``max_clients`` wait in a queue; each phase of a request
(waiting in the queue, connecting, the exchange itself) is bounded by the
request's timeouts, reported as `HTTPTimeoutError`.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import functools
import socket
import ssl
import time
import urllib.parse
from asyncio import Future
from collections.abc import Awaitable, Callable
from inspect import isawaitable
from io import BytesIO
from typing import Any

from tornado import gen, httputil, version
from tornado.escape import to_unicode
from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _check_body_for_method,
    _follows_redirect,
    _redirected_request,
    _RequestProxy,
)
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.netutil import OverrideResolver, Resolver, is_valid_ip
from tornado.tcpclient import TCPClient
from tornado.util import TimeoutError

__all__ = ["SimpleAsyncHTTPClient", "HTTPTimeoutError", "HTTPStreamClosedError"]

_Callback = Callable[[HTTPResponse], None]

_SUPPORTED_METHODS = frozenset(
    ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
)
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
        self.waiting[key] = (request, callback, self._queue_deadline(key, request))
        self._start_queued()
        if self.queue:
            gen_log.debug(
                "max_clients limit reached, request queued. "
                "%d active, %d queued requests.",
                len(self.active),
                len(self.queue),
            )

    def _queue_deadline(self, key: object, request: HTTPRequest) -> object | None:
        """The timeout of a request that has to wait for a slot, if it must."""
        if len(self.active) < self.max_clients:
            return None  # it starts right away
        limit = _shortest_timeout(request.connect_timeout, request.request_timeout)
        if not limit:
            return None
        return self.io_loop.add_timeout(
            self.io_loop.time() + limit, functools.partial(self._expire_queued, key)
        )

    def _start_queued(self) -> None:
        """Start queued requests while slots are free."""
        while self.queue and len(self.active) < self.max_clients:
            key, request, callback = self.queue.popleft()
            waited = self.waiting.pop(key, None)
            if waited is None:
                continue  # it timed out in the queue
            if waited[2] is not None:
                self.io_loop.remove_timeout(waited[2])
            self.active[key] = (request, callback)
            _HTTPConnection(
                self,
                request,
                functools.partial(self._free_slot, key),
                callback,
                self.max_buffer_size,
                self.tcp_client,
                self.max_header_size,
                self.max_body_size,
            )

    def _free_slot(self, key: object) -> None:
        del self.active[key]
        self._start_queued()

    def _expire_queued(self, key: object) -> None:
        """Fail a request that waited in the queue for too long."""
        request, callback, _ = self.waiting.pop(key)
        self.queue.remove((key, request, callback))
        response = HTTPResponse(
            request,
            599,
            error=HTTPTimeoutError("Timeout in request queue"),
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

    stream: IOStream
    connection: HTTP1Connection

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
        # Whether the response is a redirect this exchange follows.
        self._redirecting = False
        self.io_loop.add_future(gen.convert_yielded(self.run()), _reraise)

    # -- the exchange -------------------------------------------------------

    async def run(self) -> None:
        """Connect, send the request and read the response."""
        try:
            self.parsed = urllib.parse.urlsplit(to_unicode(self.request.url))
            host_port, host, port = _target_of(self.parsed, self.request.url)
            self._check_request()
            self.stream = await self._connect(host, port)
            self.stream.set_close_callback(self.on_connection_close)
            self._start_request_timer()
            self.connection = self._create_connection(self.stream)
            self.connection.write_headers(
                httputil.RequestStartLine(
                    self.request.method, _path_of(self.parsed), ""
                ),
                self._wire_headers(host_port),
            )
            if self.request.expect_100_continue:
                # The body goes out from headers_received, on "100 Continue".
                await self.connection.read_response(self)
            else:
                await self._send_body()
                await self.connection.read_response(self)
        except Exception as e:
            self._fail(e)

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
        request = self.request
        try:
            return await self.tcp_client.connect(
                host,
                port,
                af=socket.AF_INET if request.allow_ipv6 is False else socket.AF_UNSPEC,
                ssl_options=self._get_ssl_options(self.parsed.scheme),
                max_buffer_size=self.max_buffer_size,
                source_ip=request.network_interface or None,
                timeout=_shortest_timeout(
                    request.connect_timeout, request.request_timeout
                ),
            )
        except TimeoutError as e:
            # TCPClient says which step ran out of time.
            raise HTTPTimeoutError(str(e) or "Timeout while connecting") from None

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

    def _start_request_timer(self) -> None:
        if self.request.request_timeout:
            self._timeout = self.io_loop.add_timeout(
                self.start_time + self.request.request_timeout,
                functools.partial(self._on_timeout, "during request"),
            )

    def _wire_headers(self, host_port: str) -> httputil.HTTPHeaders:
        """The headers to send: the request's, completed, plus the framing.

        The defaults go into the request's own headers (where a redirect
        finds them); the framing goes only into the copy that is sent, which
        the connection may extend (with ``Transfer-Encoding``): a request's
        headers never carry framing over to the next one.
        """
        request = self.request
        headers = request.headers
        headers.setdefault("Connection", "close")
        headers.setdefault("Host", host_port)
        credentials = self._credentials()
        if credentials is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
        if request.user_agent:
            headers["User-Agent"] = request.user_agent
        elif headers.get("User-Agent") is None:
            headers["User-Agent"] = f"Tornado/{version}"
        if request.expect_100_continue:
            headers["Expect"] = "100-continue"
        if request.method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request.decompress_response:
            headers["Accept-Encoding"] = "gzip"
        wire = httputil.HTTPHeaders(headers)
        if request.body is not None:
            # Without a body (a body_producer) the caller may set
            # Content-Length; otherwise the body goes out chunked.
            wire["Content-Length"] = str(len(request.body))
        return wire

    def _credentials(self) -> bytes | None:
        """``user:password`` for basic authentication, from the URL or request."""
        if self.parsed.username is not None:
            username, password = self.parsed.username, self.parsed.password or ""
        elif self.request.auth_username is not None:
            username = self.request.auth_username
            password = self.request.auth_password or ""
        else:
            return None
        return httputil.encode_username_password(username, password)

    def _create_connection(self, stream: IOStream) -> HTTP1Connection:
        stream.set_nodelay(True)
        params = HTTP1ConnectionParameters(
            no_keep_alive=True,
            max_header_size=self.max_header_size,
            max_body_size=self.max_body_size,
            decompress=bool(self.request.decompress_response),
        )
        return HTTP1Connection(stream, True, params, self._sockaddr)

    async def _send_body(self) -> None:
        if self.request.body is not None:
            self.connection.write(self.request.body)
        elif self.request.body_producer is not None:
            produced = self.request.body_producer(self.connection.write)
            if produced is not None:
                await produced
        self.connection.finish()

    # -- outcomes -----------------------------------------------------------

    def _release(self) -> None:
        if self.release_callback is not None:
            release_callback, self.release_callback = self.release_callback, None
            release_callback()

    def _answer(self, response: HTTPResponse) -> None:
        """Deliver ``response``: the one outcome of this exchange."""
        self._remove_timeout()
        self._release()
        final_callback, self.final_callback = self.final_callback, None
        if final_callback is not None:
            self.io_loop.add_callback(final_callback, response)

    def _fail(self, error: BaseException) -> None:
        """Answer with ``error`` (as a 599 response) and close the connection.

        Once answered, a closed stream is the expected end of the exchange;
        any other error is a bug that goes on to the event loop's log.
        """
        if self.final_callback is None:
            if isinstance(error, StreamClosedError):
                return
            raise error
        if isinstance(error, StreamClosedError):
            error = error.real_error or HTTPStreamClosedError("Stream closed")
        self._answer(
            HTTPResponse(
                self.request,
                599,
                error=error,
                request_time=self.io_loop.time() - self.start_time,
                start_time=self.start_wall_time,
            )
        )
        stream = getattr(self, "stream", None)
        if stream is not None:
            stream.close()

    def _callback_failed(self) -> None:
        """A header or streaming callback raised: log it, end the exchange.

        Called while handling the exception.
        """
        app_log.error("Uncaught exception", exc_info=True)
        self._fail(HTTPStreamClosedError("Stream closed"))

    def _on_timeout(self, info: str | None = None) -> None:
        """Fail the request because its timeout expired."""
        self._timeout = None
        if self.final_callback is not None:
            self._fail(HTTPTimeoutError(f"Timeout {info}" if info else "Timeout"))

    def _remove_timeout(self) -> None:
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None

    # -- the HTTPMessageDelegate interface ----------------------------------

    def on_connection_close(self) -> None:
        """Fail the request if the connection closes before it completes."""
        if self.final_callback is None:
            return
        error = self.stream.error
        if error is None or isinstance(error, StreamClosedError):
            error = HTTPStreamClosedError("Connection closed")
        self._fail(error)

    async def headers_received(
        self,
        first_line: httputil.ResponseStartLine | httputil.RequestStartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        """Record the status and headers (or send the body on 100 Continue)."""
        assert isinstance(first_line, httputil.ResponseStartLine)
        if first_line.code == 100 and self.request.expect_100_continue:
            try:
                await self._send_body()
            except Exception as e:
                self._fail(e)
            return
        self.code, self.reason, self.headers = (
            first_line.code,
            first_line.reason,
            headers,
        )
        self._redirecting = self._follows_redirect()
        if self._redirecting or self.request.header_callback is None:
            return
        try:
            _replay_head(self.request.header_callback, first_line, headers)
        except Exception:
            self._callback_failed()

    def _follows_redirect(self) -> bool:
        return (
            self.client is not None
            and self.headers is not None
            and _follows_redirect(self.request, self.code, self.headers)
        )

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Collect (or stream out) a piece of the response body.

        A coroutine ``streaming_callback`` is awaited before the next piece
        is read, which holds the server back while the callback is busy.
        """
        if self._redirecting or self.final_callback is None:
            return None  # a redirect's body, or the exchange failed already
        streaming_callback = self.request.streaming_callback
        if streaming_callback is None:
            self.chunks.append(chunk)
            return None
        try:
            outcome = streaming_callback(chunk)
        except Exception:
            self._callback_failed()
            return None
        if outcome is not None and isawaitable(outcome):
            return self._await_callback(outcome)
        return None

    async def _await_callback(self, pending: Awaitable[Any]) -> None:
        try:
            await pending
        except (Exception, asyncio.CancelledError):
            # Nothing else cancels this exchange's task: the callback did.
            self._callback_failed()

    def finish(self) -> None:
        """Deliver the complete response, or follow its redirect."""
        if self.final_callback is None:
            return  # failed while reading: a callback raised, or a timeout
        assert self.code is not None
        original_request = getattr(self.request, "original_request", self.request)
        if self._redirecting:
            self._follow_redirect(original_request)
        else:
            body = b"" if self.request.streaming_callback else b"".join(self.chunks)
            self._answer(
                HTTPResponse(
                    original_request,
                    self.code,
                    reason=self.reason,
                    headers=self.headers,
                    request_time=self.io_loop.time() - self.start_time,
                    start_time=self.start_wall_time,
                    buffer=BytesIO(body),
                    effective_url=self.request.url,
                )
            )
        self.stream.close()

    # -- redirects ----------------------------------------------------------

    def _follow_redirect(self, original_request: HTTPRequest) -> None:
        """Fetch the redirect's target; its response becomes this one's."""
        assert self.client is not None
        new_request = self._redirected_request()
        new_request.original_request = original_request  # type: ignore[attr-defined]
        final_callback, self.final_callback = self.final_callback, None
        assert final_callback is not None
        self._remove_timeout()
        self._release()
        fetched = self.client.fetch(new_request, raise_error=False)
        fetched.add_done_callback(
            functools.partial(
                _pass_on, final_callback, original_request, new_request.url
            )
        )

    def _redirected_request(self) -> HTTPRequest:
        assert isinstance(self.request, _RequestProxy) and self.headers is not None
        assert self.code is not None
        return _redirected_request(self.request, self.code, self.headers["Location"])


def _reraise(future: Future[None]) -> None:
    """Done callback that makes an exception escaping ``run`` visible."""
    future.result()


def _target_of(parsed: urllib.parse.SplitResult, url: str) -> tuple[str, str, int]:
    """``(host:port as written, host, port)`` of a request's URL."""
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"Unsupported url scheme: {url}")
    host_port = parsed.netloc.rpartition("@")[-1]
    host, port = httputil.split_host_and_port(host_port)
    if port is None:
        port = 443 if parsed.scheme == "https" else 80
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 literal
    return host_port, host, port


def _path_of(parsed: urllib.parse.SplitResult) -> str:
    return (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")


def _replay_head(
    header_callback: Callable[[str], None],
    first_line: httputil.ResponseStartLine,
    headers: httputil.HTTPHeaders,
) -> None:
    """Hand the response head to ``header_callback`` line by line, as received."""
    version_, code, reason = first_line
    header_callback(f"{version_} {code} {reason}\r\n")
    for name, value in headers.get_all():
        header_callback(f"{name}: {value}\r\n")
    header_callback("\r\n")


def _pass_on(
    final_callback: _Callback,
    request: HTTPRequest,
    url: str,
    fetched: Future[HTTPResponse],
) -> None:
    """Pass a redirect's result on, turning an exception into a 599 response."""
    error = fetched.exception()
    if error is None:
        final_callback(fetched.result())
    else:
        final_callback(HTTPResponse(request, 599, error=error, effective_url=url))
