"""HTTP/2 for `.HTTPServer`: an `asyncio.Protocol` serving one connection.

`HTTP2ServerProtocol` drives the sans-I/O `tornado._http2_session.HTTP2Session`
from an asyncio transport (plain TCP for h2c, TLS after ALPN chose ``h2``).
The server hands it connections it has recognised as HTTP/2; requests go to
the server's `.HTTPServerConnectionDelegate` as HTTP/1 requests do.

HTTP/2 needs the ``h2`` package (``pip install "tornado[http2]"``); this
module imports without it, and `require_h2` (or making a protocol) says what
is missing.
"""

from __future__ import annotations

import asyncio
import importlib
import types
from asyncio import Future
from typing import TYPE_CHECKING, Any, cast

from tornado.httputil import HTTPServerConnectionDelegate

if TYPE_CHECKING:
    from tornado import _http2_session
    from tornado.http1connection import HTTP1ConnectionParameters

__all__ = ["HTTP2ServerProtocol", "require_h2", "MISSING_H2_MESSAGE"]

#: The error message when ``h2`` cannot be imported.
MISSING_H2_MESSAGE = (
    'HTTP/2 support needs the "h2" package: pip install "tornado[http2]"'
)
#: Seconds `HTTP2ServerProtocol.close` lets open streams finish.
GRACEFUL_CLOSE_TIMEOUT = 2.0
#: Seconds a connection the server has finished with waits for the client
#: to close its end (so that the client reads the last frames rather than a
#: reset), before it is cut.
LINGER_TIMEOUT = 2.0
_DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024
_H2_MODULES = ("h2", "hpack", "hyperframe")


def require_h2() -> types.ModuleType:
    """Import the HTTP/2 machinery, or raise `ImportError` naming the extra."""
    try:
        return importlib.import_module("tornado._http2_session")
    except ImportError as e:
        if (e.name or "").split(".")[0] in _H2_MODULES:
            raise ImportError(MISSING_H2_MESSAGE) from e
        raise


class HTTP2ServerProtocol(asyncio.Protocol):
    """Serves HTTP/2 on one connection, for ``server``.

    ``server`` is the `.HTTPServerConnectionDelegate` receiving the requests
    (an `.HTTPServer`); it hears ``on_close(protocol)`` once the connection
    is gone.  ``params`` (an `.HTTP1ConnectionParameters`) supplies the
    limits: ``max_header_size`` (also sent as SETTINGS_MAX_HEADER_LIST_SIZE
    and applied to each header block before it is decoded),
    ``max_body_size``, ``chunk_size``, ``body_timeout``, ``decompress`` and
    the idle timeout (``idle_connection_timeout``, or ``header_timeout`` as
    `.HTTPServer` sets it).  ``context`` describes the connection (the
    ``_HTTPRequestContext`` of `.HTTPServer`); each request gets a copy as
    ``request.connection.context``.  ``max_concurrent_streams`` is sent in
    SETTINGS and enforced.

    Bytes already read from the connection (a sniffed connection preface)
    may be passed to `data_received` before or after `connection_made`.
    Raises `ImportError` naming the ``http2`` extra when ``h2`` is missing.
    """

    def __init__(
        self,
        server: HTTPServerConnectionDelegate,
        params: HTTP1ConnectionParameters,
        context: object,
        *,
        max_concurrent_streams: int = 100,
    ) -> None:
        session_module: Any = require_h2()
        self.server = server
        self.params = params
        self.context = context
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._early_output: list[bytes] = []
        self._close_requested = False
        self._linger: asyncio.TimerHandle | None = None
        self._grace: asyncio.TimerHandle | None = None
        self._closed: Future[None] = self._loop.create_future()
        limits = _limits(session_module, server, params, max_concurrent_streams)
        io = session_module.SessionIO(
            write=self._write,
            close=self._finished,
            call_later=self._loop.call_later,
            call_soon=self._loop.call_soon,
            time=self._loop.time,
        )
        self._session: _http2_session.HTTP2Session = session_module.HTTP2Session(
            server, self, context, limits, io
        )
        self._session.start()

    # -- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start sending on ``transport`` (what was queued goes first)."""
        # A stream transport (uvloop's are not asyncio.Transport subclasses).
        self._transport = cast(asyncio.Transport, transport)
        if self._early_output:
            self._transport.writelines(self._early_output)
            self._early_output = []
        if self._close_requested:
            self._finished()

    def data_received(self, data: bytes) -> None:
        """Feed received bytes to the session."""
        self._session.receive(data)

    def eof_received(self) -> bool | None:
        """The client stopped sending: the connection ends."""
        self._session.connection_lost()
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: tell the streams and the server."""
        self._session.connection_lost()
        for timer in (self._linger, self._grace):
            if timer is not None:
                timer.cancel()
        if not self._closed.done():
            self._closed.set_result(None)
        self.server.on_close(self)

    def pause_writing(self) -> None:
        """The transport's buffer is full: stop sending, and reading."""
        self._session.pause_output()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        """The transport's buffer drained: go on."""
        self._session.resume_output()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    # -- closing ----------------------------------------------------------------------

    def close(self, timeout: float = GRACEFUL_CLOSE_TIMEOUT) -> Future[None]:
        """Close gracefully: GOAWAY, let open streams finish, then close.

        Streams still open after ``timeout`` seconds are cut off.  Returns
        a future resolved once the connection is closed.
        """
        self._session.shutdown()
        if self._grace is None and not self._closed.done():
            self._grace = self._loop.call_later(timeout, self._session.abort)
        return self._closed

    def wait_closed(self) -> Future[None]:
        """A future resolved once the connection is closed (closing nothing)."""
        return self._closed

    def _write(self, data: bytes) -> None:
        if self._transport is None:
            self._early_output.append(data)
        elif not self._transport.is_closing():
            self._transport.write(data)

    def _finished(self) -> None:
        """The session is done: let the client close first, for a while."""
        transport = self._transport
        if transport is None:
            self._close_requested = True
            return
        if transport.is_closing() or self._linger is not None:
            return
        if self._session.output_paused:
            transport.abort()  # the client reads nothing: no point waiting
            return
        if transport.can_write_eof():
            transport.write_eof()
        self._linger = self._loop.call_later(LINGER_TIMEOUT, transport.abort)


def _limits(
    session_module: Any,
    server: HTTPServerConnectionDelegate,
    params: HTTP1ConnectionParameters,
    max_concurrent_streams: int,
) -> _http2_session.SessionLimits:
    idle = getattr(params, "idle_connection_timeout", None)
    if idle is None:
        idle = getattr(params, "header_timeout", None)
    max_body_size = params.max_body_size
    if max_body_size is None:
        max_body_size = getattr(server, "max_buffer_size", None)
    limits: _http2_session.SessionLimits = session_module.SessionLimits(
        max_concurrent_streams=max_concurrent_streams,
        max_header_size=params.max_header_size,
        max_body_size=max_body_size or _DEFAULT_MAX_BODY_SIZE,
        chunk_size=params.chunk_size,
        body_timeout=params.body_timeout,
        idle_timeout=idle,
        decompress=params.decompress,
    )
    return limits
