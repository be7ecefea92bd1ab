"""A non-blocking, single-threaded HTTP server.

`HTTPServer` accepts connections (see `.TCPServer`) and speaks HTTP/1.x on
them.  Requests go either to a callable taking an `.HTTPServerRequest`, or
to an `.HTTPServerConnectionDelegate` such as `tornado.web.Application`,
which then receives each request piece by piece::

    import asyncio
    from tornado.httpserver import HTTPServer
    from tornado.httputil import HTTPHeaders, ResponseStartLine

    def handle_request(request):
        body = b"Hello, world\\n"
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"),
            HTTPHeaders({"Content-Length": str(len(body))}),
            body,
        )
        request.connection.finish()

    async def main():
        server = HTTPServer(handle_request)
        server.listen(8888)
        await asyncio.Event().wait()

Behind a reverse proxy, ``xheaders=True`` takes the client's address and
protocol from the proxy's ``X-Real-Ip``/``X-Forwarded-For`` and
``X-Scheme``/``X-Forwarded-Proto`` headers.

Malformed requests (a bad start line or header, conflicting or unsupported
framing, a missing or invalid ``Host`` in HTTP/1.1, a body over
``max_body_size``, invalid gzip...) are answered with a bare
``HTTP/1.1 400 Bad Request`` and the connection is closed; each is logged
once at INFO on ``tornado.general`` as ``Malformed HTTP message from
<address>: <reason>``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from tornado import httputil, iostream, netutil
from tornado.escape import native_str
from tornado.http1connection import (
    HTTP1Connection,
    HTTP1ConnectionParameters,
    HTTP1ServerConnection,
    HTTP1ServerProtocol,
)
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.tcpserver import TCPServer
from tornado.util import Configurable

__all__ = ["HTTPServer", "HTTPRequest"]

#: The old name of `.HTTPServerRequest`, kept for compatibility.
HTTPRequest = HTTPServerRequest

_RequestCallback = Callable[[HTTPServerRequest], Any]

# How long an idle keep-alive connection stays open by default, in seconds.
_DEFAULT_IDLE_TIMEOUT = 3600.0


class HTTPServer(TCPServer, Configurable, HTTPServerConnectionDelegate):
    r"""A non-blocking, single-threaded HTTP/1.x server.

    ``request_callback`` is either a callable, called with each complete
    `.HTTPServerRequest` (which it answers through ``request.connection``),
    or an `.HTTPServerConnectionDelegate` such as a
    `tornado.web.Application`, which receives requests as they stream in.

    Options:

    * ``no_keep_alive``: close the connection after each request.
    * ``xheaders``: trust the proxy headers ``X-Real-Ip`` and
      ``X-Forwarded-For`` for `.HTTPServerRequest.remote_ip`, and
      ``X-Scheme`` and ``X-Forwarded-Proto`` for its ``protocol``.  With
      several addresses in ``X-Forwarded-For`` the rightmost one not listed
      in ``trusted_downstream`` (a collection of proxy addresses) is used.
    * ``ssl_options``: serve HTTPS, as for `.TCPServer`.
    * ``protocol``: the value of ``request.protocol`` (by default ``"http"``
      or ``"https"`` according to ``ssl_options``), for servers behind a
      TLS-terminating proxy that sends no ``X-Scheme``.
    * ``decompress_request``: decode request bodies sent with
      ``Content-Encoding: gzip``.
    * ``chunk_size``: the most body bytes passed to a delegate at once.
    * ``max_header_size``: the largest request head accepted; a larger one
      closes the connection without an answer.
    * ``max_body_size``: the largest request body accepted (after gzip
      decoding, with ``decompress_request``).
    * ``max_buffer_size``: the read buffer limit of each connection.
    * ``idle_connection_timeout``: seconds an idle connection stays open
      (an hour by default).
    * ``body_timeout``: seconds allowed to receive a request body.

    Start it like a `.TCPServer`: `~.TCPServer.listen`,
    `~.TCPServer.add_sockets`, or `~.TCPServer.bind` and `~.TCPServer.start`.  ``HTTPServer`` is `.Configurable`; its constructor arguments
    are those of `initialize`.
    """

    def __new__(cls, *args: Any, http2: bool = False, **kwargs: Any) -> Any:
        """Create the server; ``http2`` is taken here, the rest by `initialize`."""
        server = super().__new__(cls, *args, **kwargs)
        if http2:
            from tornado._http2 import require_h2

            require_h2()
            server._http2 = True
        return server

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Arguments are handled by `initialize` (see `.Configurable`)."""

    def initialize(
        self,
        request_callback: HTTPServerConnectionDelegate | _RequestCallback,
        no_keep_alive: bool = False,
        xheaders: bool = False,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        protocol: str | None = None,
        decompress_request: bool = False,
        chunk_size: int | None = None,
        max_header_size: int | None = None,
        idle_connection_timeout: float | None = None,
        body_timeout: float | None = None,
        max_body_size: int | None = None,
        max_buffer_size: int | None = None,
        trusted_downstream: list[str] | None = None,
    ) -> None:
        """Set the server up; see the class documentation for the arguments."""
        #: The callable or delegate handling requests.
        self.request_callback = request_callback
        #: Whether proxy headers are trusted.
        self.xheaders = xheaders
        #: The protocol reported for requests, or ``None`` to detect it.
        self.protocol = protocol
        #: The `.HTTP1ConnectionParameters` of every connection.
        self.conn_params = HTTP1ConnectionParameters(
            decompress=decompress_request,
            chunk_size=chunk_size,
            max_header_size=max_header_size,
            header_timeout=idle_connection_timeout or _DEFAULT_IDLE_TIMEOUT,
            max_body_size=max_body_size,
            body_timeout=body_timeout,
            no_keep_alive=no_keep_alive,
        )
        TCPServer.__init__(
            self,
            ssl_options=ssl_options,
            max_buffer_size=max_buffer_size,
            read_chunk_size=chunk_size,
        )
        # HTTP1ServerProtocol, HTTP2ServerProtocol, or HTTP1ServerConnection
        # (for a subclass calling handle_stream itself).
        self._connections: set[Any] = set()
        #: Proxy addresses skipped in ``X-Forwarded-For``.
        self.trusted_downstream = trusted_downstream
        self._http2 = False

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """`HTTPServer` heads its own configurable hierarchy."""
        return HTTPServer

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """`HTTPServer` is its own default implementation."""
        return HTTPServer

    async def close_all_connections(self) -> None:
        """Close every open connection and wait for them to finish.

        Call it after `~.TCPServer.stop` to shut down completely; useful in tests.
        Requests in progress are cut off.
        """
        while self._connections:
            conn = next(iter(self._connections))
            if isinstance(conn, HTTP1ServerProtocol):
                conn.close(abort=True)
                await conn.wait_closed()
            else:
                await conn.close()  # an HTTP/2 one lets its streams finish
            self._connections.discard(conn)

    def _protocol_factory(self) -> Callable[[], asyncio.BaseProtocol] | None:
        """Serve from the loop's transports, unless `handle_stream` is overridden."""
        if type(self).handle_stream is not HTTPServer.handle_stream:
            return None
        return self._new_protocol

    def _tls_context(self) -> ssl.SSLContext | None:
        """The TLS context, offering ``h2`` by ALPN when HTTP/2 is on."""
        context = super()._tls_context()
        if context is not None and self._http2:
            context.set_alpn_protocols(["h2", "http/1.1"])
        return context

    def _new_protocol(self) -> HTTP1ServerProtocol:
        return HTTP1ServerProtocol(
            self,
            self.conn_params,
            self._connection_started,
            self.max_buffer_size,
            self._serve_http2 if self._http2 else None,
        )

    def _connection_started(
        self, protocol: HTTP1ServerProtocol, transport: asyncio.BaseTransport
    ) -> _HTTPRequestContext:
        self._connections.add(protocol)
        return _HTTPRequestContext(
            _SocketHolder(transport.get_extra_info("socket")),
            transport.get_extra_info("peername"),
            self.protocol,
            self.trusted_downstream,
            tls=transport.get_extra_info("sslcontext") is not None,
        )

    def _serve_http2(
        self, transport: asyncio.BaseTransport, read_ahead: bytes, context: object
    ) -> None:
        from tornado._http2 import HTTP2ServerProtocol

        protocol = HTTP2ServerProtocol(self, self.conn_params, context)
        self._connections.add(protocol)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if read_ahead:
            protocol.data_received(read_ahead)

    def handle_stream(
        self, stream: iostream.IOStream, address: tuple[Any, ...]
    ) -> Awaitable[None] | None:
        """Start serving HTTP on a newly accepted connection."""
        context = _HTTPRequestContext(
            stream, address, self.protocol, self.trusted_downstream
        )
        conn = HTTP1ServerConnection(stream, self.conn_params, context)
        self._connections.add(conn)
        conn.start_serving(self)
        return None

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> HTTPMessageDelegate:
        """Return the delegate for a new request (see `.HTTPServerConnectionDelegate`)."""
        delegate: HTTPMessageDelegate
        if isinstance(self.request_callback, HTTPServerConnectionDelegate):
            delegate = self.request_callback.start_request(server_conn, request_conn)
        else:
            delegate = _CallableAdapter(self.request_callback, request_conn)
        if self.xheaders:
            delegate = _ProxyAdapter(delegate, request_conn)
        return delegate

    def on_close(self, server_conn: object) -> None:
        """Forget a closed connection."""
        self._connections.discard(server_conn)


class _CallableAdapter(HTTPMessageDelegate):
    """Collects a whole request, then passes it to a plain callable."""

    def __init__(
        self, request_callback: _RequestCallback, request_conn: httputil.HTTPConnection
    ) -> None:
        self.connection = request_conn
        self.request_callback = request_callback
        self.request: HTTPServerRequest | None = None
        self._chunks: list[bytes] = []

    def headers_received(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Awaitable[None] | None:
        self.request = HTTPServerRequest(
            connection=self.connection,
            start_line=cast(RequestStartLine, start_line),
            headers=headers,
        )
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self._chunks.append(chunk)
        return None

    def finish(self) -> None:
        assert self.request is not None
        self.request.body = b"".join(self._chunks)
        self.request._parse_body()
        self.request_callback(self.request)

    def on_connection_close(self) -> None:
        self._chunks = []


_NO_PROXIES: frozenset[str] = frozenset()


class _SocketHolder:
    """What `_HTTPRequestContext` looks at of a stream: its socket."""

    __slots__ = ("socket",)

    def __init__(self, sock: Any) -> None:
        self.socket = sock


class _HTTPRequestContext:
    """What a server knows about a connection: the client's address and protocol.

    Shared by the requests of a connection; with ``xheaders`` each request
    may temporarily replace ``remote_ip`` and ``protocol`` with the values
    its proxy reported.
    """

    __slots__ = (
        "address",
        "address_family",
        "remote_ip",
        "protocol",
        "_orig_remote_ip",
        "_orig_protocol",
        "trusted_downstream",
    )

    def __init__(
        self,
        stream: iostream.IOStream | _SocketHolder,
        address: Any,
        protocol: str | None,
        trusted_downstream: Iterable[str] | None = None,
        tls: bool | None = None,
    ) -> None:
        self.address = address
        sock = getattr(stream, "socket", None)
        self.address_family = sock.family if sock is not None else None
        if self._is_ip() and address is not None:
            self.remote_ip: str = address[0]
        else:
            self.remote_ip = "0.0.0.0"  # a Unix socket has no client address
        if protocol:
            self.protocol = protocol
        elif tls or (tls is None and isinstance(stream, iostream.SSLIOStream)):
            self.protocol = "https"
        else:
            self.protocol = "http"
        self._orig_remote_ip = self.remote_ip
        self._orig_protocol = self.protocol
        self.trusted_downstream: frozenset[str] = (
            frozenset(trusted_downstream) if trusted_downstream else _NO_PROXIES
        )

    def _is_ip(self) -> bool:
        return self.address_family in (socket.AF_INET, socket.AF_INET6)

    def __str__(self) -> str:
        if self._is_ip():
            return self.remote_ip
        if isinstance(self.address, bytes):
            # Unix socket addresses are bytes on Linux; str(bytes) would
            # warn under python -bb.
            return native_str(self.address)
        return str(self.address)

    def _apply_xheaders(self, headers: HTTPHeaders) -> None:
        """Take ``remote_ip`` and ``protocol`` from a proxy's headers."""
        forwarded_for = headers.get("X-Forwarded-For", self.remote_ip)
        candidates = [ip.strip() for ip in reversed(forwarded_for.split(","))]
        # The rightmost address not added by one of our own proxies.
        ip = next(
            (ip for ip in candidates if ip not in self.trusted_downstream),
            candidates[-1],
        )
        ip = headers.get("X-Real-Ip", ip)
        if netutil.is_valid_ip(ip):
            self.remote_ip = ip
        scheme = headers.get("X-Scheme", headers.get("X-Forwarded-Proto", ""))
        # With several proxies, the last one spoke to the client.
        scheme = scheme.split(",")[-1].strip()
        if scheme in ("http", "https"):
            self.protocol = scheme

    def _unapply_xheaders(self) -> None:
        """Go back to the connection's own address and protocol."""
        self.remote_ip = self._orig_remote_ip
        self.protocol = self._orig_protocol


class _ProxyAdapter(HTTPMessageDelegate):
    """Applies proxy headers to the connection context around a request."""

    def __init__(
        self, delegate: HTTPMessageDelegate, request_conn: httputil.HTTPConnection
    ) -> None:
        self.connection = request_conn
        self.delegate = delegate

    def _context(self) -> _HTTPRequestContext:
        return cast(_HTTPRequestContext, cast(HTTP1Connection, self.connection).context)

    def headers_received(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Awaitable[None] | None:
        self._context()._apply_xheaders(headers)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()
        self._cleanup()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()
        self._cleanup()

    def _cleanup(self) -> None:
        self._context()._unapply_xheaders()
