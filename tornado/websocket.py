"""WebSockets (RFC 6455) with permessage-deflate compression (RFC 7692).

A WebSocket is a long-lived, two-way message channel between a browser (or
any client) and the server.  It starts life as an HTTP request asking to be
upgraded; from then on either side can send a text or binary message at any
time, plus pings and a closing handshake.  On the server, subclass `WebSocketHandler`, route a URL to it
like any other handler, and fill in `~WebSocketHandler.open`,
`~WebSocketHandler.on_message` and `~WebSocketHandler.on_close`::

    class EchoWebSocket(WebSocketHandler):
        def open(self):
            print("WebSocket opened")

        def on_message(self, message):
            self.write_message("You said: " + message)

        def on_close(self):
            print("WebSocket closed")

On the client, `websocket_connect` opens a connection and resolves to a
`WebSocketClientConnection`, whose `~WebSocketClientConnection.read_message`
returns each message in turn (``None`` once the connection is closed).
The ``demos/websocket`` directory holds a small chat room built on both.

Browsers let any page open a WebSocket to any server, sending the user's
cookies along.  Every upgrade request therefore goes through the
cross-origin check described under :ref:`cross-origin-protection` (whatever
the ``cross_origin_protection`` setting says): same-origin requests (by
``Sec-Fetch-Site``, or an ``Origin`` naming the ``Host``) and requests
without an ``Origin`` are accepted, and `WebSocketHandler.check_origin`
decides about the others; by default it accepts the ``trusted_origins``
setting's origins.  A refused request gets a 403 and a debug log line
saying why.  Only version 13 of the protocol (RFC 6455) is spoken: a
request for another version gets a 426 with ``Sec-WebSocket-Version: 13``.

A client that floods the server with pings gets one pong at a time (for
the latest ping) while it does not read, and a connection's reading loop
yields to the event loop every millisecond or so, so a flood of small
messages cannot starve other connections.

The bytes on the wire (frames, masking, fragmentation, close payloads and
compression) are handled by a pure codec in ``tornado._websocket_wire``; the
classes here run the opening handshake and drive that codec over an
`.IOStream`.  Unmasking the frames clients send is the costly part of
receiving large messages; an optional C extension, ``tornado.speedups``,
does it when it was compiled at installation (which needs a C compiler),
and a slower pure-Python version otherwise.  Setting the environment
variable ``TORNADO_EXTENSION=0`` forces the pure-Python version, and
``TORNADO_EXTENSION=1`` makes a missing extension an error, both when
installing and when ``tornado`` is imported.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import functools
import logging
import sys
import urllib.parse
import warnings
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    NoReturn,
    Protocol,
    cast,
)

from tornado import _websocket_wire as wire
from tornado import httpclient, httputil, simple_httpclient
from tornado._httpgrammar import split_list
from tornado.concurrent import (
    Future,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.escape import json_encode, to_unicode, utf8
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.queues import Queue
from tornado.tcpclient import TCPClient
from tornado.web import RequestHandler, _cross_origin_refusal, _task_is_cancelled

if TYPE_CHECKING:
    from tornado.netutil import Resolver
    from tornado.web import Application

__all__ = [
    "WebSocketError",
    "WebSocketClosedError",
    "WebSocketHandler",
    "WebSocketProtocol",
    "WebSocketProtocol13",
    "WebSocketClientConnection",
    "websocket_connect",
]

_DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024
#: Seconds to wait for the peer's close frame before dropping the connection.
_CLOSE_TIMEOUT = 5.0
#: Most bytes taken from the stream per read; frames may span reads.
_READ_SIZE = 1024 * 1024
#: Missing payload from which a frame's remainder is read in one go.
_DIRECT_READ_SIZE = 64 * 1024
#: Longest a connection's reading loop runs before yielding to the event loop.
_MAX_TURN = 0.001
#: Payload size from which a frame is written as header and payload apart.
_SEPARATE_PAYLOAD_SIZE = 64 * 1024
#: Limits of the client's HTTP handshake: buffered bytes and response head.
_CLIENT_MAX_BUFFER_SIZE = 100 * 1024 * 1024
_CLIENT_MAX_HEADER_SIZE = 64 * 1024
#: The WebSocket versions accepted: RFC 6455's.
_SUPPORTED_VERSIONS = ("13",)
#: Response-building methods that make no sense once the connection upgraded.
_HTTP_ONLY_METHODS = (
    "write",
    "redirect",
    "set_header",
    "set_cookie",
    "set_status",
    "flush",
    "finish",
)

_Message = str | bytes | dict[str, Any]


class WebSocketError(Exception):
    """Base class for WebSocket errors (for instance a failed handshake)."""


class WebSocketClosedError(WebSocketError):
    """Raised when using a WebSocket connection that is closed or closing."""


@functools.cache
def de_dupe_gen_log(level: int, message: str) -> None:
    """Log ``message`` to ``tornado.general`` at most once per process.

    For configuration warnings that would otherwise repeat on every
    connection.
    """
    gen_log.log(level, message)


@dataclasses.dataclass
class _WebSocketParams:
    """Connection settings shared by the server and client sides."""

    ping_interval: float | None = None
    ping_timeout: float | None = None
    max_message_size: int | None = _DEFAULT_MAX_MESSAGE_SIZE
    compression_options: dict[str, Any] | None = None


class _WebSocketDelegate(Protocol):
    """What a protocol object calls back into: a handler or a client."""

    def on_message(self, message: str | bytes) -> Awaitable[None] | None: ...

    def on_ping(self, data: bytes) -> None: ...

    def on_pong(self, data: bytes) -> None: ...

    def on_ws_connection_close(
        self, close_code: int | None = None, close_reason: str | None = None
    ) -> None: ...

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _not_supported_for_websockets(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("Method not supported for Web Sockets")


def _header_tokens(value: str) -> list[str]:
    """The elements of a comma-separated header value, lower-cased."""
    return [element.lower() for element in split_list(value)]


# ---------------------------------------------------------------------------
# Server side


class WebSocketHandler(RequestHandler):
    """Base class for WebSocket endpoints; subclass it and route a URL to it.

    Override `open` to be told of a new connection, `on_message` to receive
    messages and `on_close` to be told the connection ended; send with
    `write_message` and end it with `close`.  Messages are handled one at a
    time, in order: when `on_message` is a coroutine, the next message waits
    until it finishes.

    The handshake is answered by `get`.  A request that is not a valid
    WebSocket upgrade gets a 400, an unsupported protocol version a 426
    naming the supported ones, and a request from another origin a 403 (see
    `check_origin`).  Other HTTP methods get a 405.

    Application settings used: ``websocket_ping_interval``,
    ``websocket_ping_timeout`` and ``websocket_max_message_size`` (see the
    properties of the same names here).

    Once the connection is upgraded the methods that build an HTTP response
    (``write``, ``finish``, ``set_header`` and so on) raise `RuntimeError`.

    An echo endpoint, served on a free loopback port and used by a client:

    >>> import asyncio
    >>> from tornado.httpserver import HTTPServer
    >>> from tornado.testing import bind_unused_port
    >>> from tornado.web import Application
    >>> from tornado.websocket import WebSocketHandler, websocket_connect
    >>> class Echo(WebSocketHandler):
    ...     def on_message(self, message):
    ...         self.write_message("You said: " + message)
    >>> async def main():
    ...     sock, port = bind_unused_port()
    ...     server = HTTPServer(Application([("/echo", Echo)]))
    ...     server.add_socket(sock)
    ...     try:
    ...         connection = await websocket_connect(f"ws://127.0.0.1:{port}/echo")
    ...         await connection.write_message("hello")
    ...         reply = await connection.read_message()
    ...         connection.close()
    ...         end = await connection.read_message()  # None: closed
    ...     finally:
    ...         server.stop()
    ...         await server.close_all_connections()
    ...     return reply, end
    >>> asyncio.run(main())
    ('You said: hello', None)
    """

    def __init__(
        self,
        application: Application,
        request: httputil.HTTPServerRequest,
        **kwargs: Any,
    ) -> None:
        """Called by the `.Application`; ``kwargs`` go to ``initialize``."""
        #: The protocol object of an accepted connection (``None`` before the
        #: handshake and after `close`).
        self.ws_connection: WebSocketProtocol | None = None
        #: The close code the client sent, once the connection is closed.
        self.close_code: int | None = None
        #: The close reason the client sent, once the connection is closed.
        self.close_reason: str | None = None
        #: The positional URL groups, passed on to `open`.
        self.open_args: tuple[Any, ...] = ()
        #: The named URL groups, passed on to `open`.
        self.open_kwargs: dict[str, Any] = {}
        self._on_close_called = False
        super().__init__(application, request, **kwargs)

    # -- settings -----------------------------------------------------------

    @property
    def ping_interval(self) -> float | None:
        """Seconds between pings sent to keep the connection alive.

        From the ``websocket_ping_interval`` application setting; ``None``
        or 0 (the default) sends no pings.
        """
        return self.settings.get("websocket_ping_interval", None)

    @property
    def ping_timeout(self) -> float | None:
        """Seconds to wait for the answer to a ping before closing.

        From the ``websocket_ping_timeout`` application setting; by
        default, and at most, the ping interval.
        """
        return self.settings.get("websocket_ping_timeout", None)

    @property
    def max_message_size(self) -> int:
        """The largest message accepted, in bytes (after decompression).

        From the ``websocket_max_message_size`` application setting; 10 MiB
        by default.  A larger message closes the connection with code 1009.
        """
        return cast(
            int,
            self.settings.get("websocket_max_message_size", _DEFAULT_MAX_MESSAGE_SIZE),
        )

    # -- the handshake --------------------------------------------------------

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Answer the upgrade request and run the connection until it closes.

        The URL groups are kept for `open`.  Not to be overridden: use
        ``prepare`` or `open` for per-connection setup.
        """
        self.open_args = args
        self.open_kwargs = kwargs
        refusal = self._upgrade_refusal()
        if refusal is not None:
            status, message = refusal
            self._refuse(status, message)
            return
        self.ws_connection = self.get_websocket_protocol()
        if self.ws_connection is None:
            self.set_header("Sec-WebSocket-Version", ", ".join(_SUPPORTED_VERSIONS))
            self._refuse(426, "Unsupported WebSocket version", "Upgrade Required")
            return
        await self.ws_connection.accept_connection(self)

    def _upgrade_refusal(self) -> tuple[int, str] | None:
        """Status and message refusing a request that cannot be upgraded."""
        headers = self.request.headers
        if headers.get("Upgrade", "").lower() != "websocket":
            return 400, 'Can "Upgrade" only to "WebSocket".'
        if "upgrade" not in _header_tokens(headers.get("Connection", "")):
            return 400, '"Connection" must be "Upgrade".'
        cross_origin = _cross_origin_refusal(self.request, self.check_origin)
        if cross_origin is not None:
            gen_log.debug("Refused WebSocket upgrade: %s", cross_origin)
            return 403, "Cross origin websockets not allowed"
        return None

    def _refuse(self, status: int, message: str, reason: str | None = None) -> None:
        self.set_status(status, reason)
        self.finish(message)
        gen_log.debug(message)

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        """The protocol object for the version the client asked for.

        ``None`` when the version is not supported (the request then gets
        a 426 response).
        """
        make_protocol = getattr(
            self.request.connection, "make_websocket_protocol", None
        )
        if make_protocol is not None:
            # A connection upgraded by other means (an ASGI server, see
            # tornado.asgi) supplies the protocol object speaking through it.
            return cast(WebSocketProtocol, make_protocol(self))
        version = self.request.headers.get("Sec-WebSocket-Version", "").strip()
        if version not in _SUPPORTED_VERSIONS:
            return None
        params = _WebSocketParams(
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            max_message_size=self.max_message_size,
            compression_options=self.get_compression_options(),
        )
        return WebSocketProtocol13(self, mask_outgoing=False, params=params)

    def check_origin(self, origin: str) -> bool:
        """Whether to accept a connection from a page at another ``origin``.

        Browsers let any page open WebSockets anywhere, carrying the
        user's cookies, so every upgrade request goes through the
        cross-origin check of the ``cross_origin_protection`` setting
        (whatever that setting says).  This is asked only about requests
        that are not same-origin (by ``Sec-Fetch-Site``, or ``Origin``
        equal to ``Host``); the default defers to
        `~tornado.web.RequestHandler.check_trusted_origin` (the
        ``trusted_origins`` setting).  Refused requests get a 403.  Override
        it with care, for instance to allow a family of domains::

            def check_origin(self, origin):
                host = urllib.parse.urlsplit(origin).hostname or ""
                return host == "example.com" or host.endswith(".example.com")
        """
        return self.check_trusted_origin(origin)

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """Pick one of the subprotocols the client offered, or ``None``.

        ``subprotocols`` lists the ``Sec-WebSocket-Protocol`` values in the
        client's order (it is empty when none were offered).  The choice is
        sent back in the handshake; it must be one of those offered.  The
        default accepts none.
        """
        return None

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol chosen by `select_subprotocol`, once connected."""
        if self.ws_connection is None:
            raise WebSocketClosedError("No WebSocket connection")
        return self.ws_connection.selected_subprotocol

    def get_compression_options(self) -> dict[str, Any] | None:
        """Compression settings for this connection, or ``None`` for none.

        Return a dict (an empty one for the defaults) to accept the
        client's offer of permessage-deflate.  It may hold
        ``compression_level`` (0-9) and ``mem_level`` (1-9), passed to
        zlib.  The default, ``None``, disables compression.
        """
        return None

    # -- callbacks for subclasses ---------------------------------------------

    def open(self, *args: Any, **kwargs: Any) -> Awaitable[None] | None:
        """Called when the connection is open, with the URL's groups.

        May be a coroutine; no message is delivered before it finishes.
        """
        return None

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Handle a message: a `str` for text, `bytes` for binary.

        Must be overridden.  May be a coroutine; the next message is only
        delivered once it finishes.
        """
        raise NotImplementedError

    def on_ping(self, data: bytes) -> None:
        """Called when a ping arrives (it has already been answered)."""

    def on_pong(self, data: bytes) -> None:
        """Called when the answer to a ping arrives."""

    def on_close(self) -> None:
        """Called once when the connection has closed.

        `close_code` and `close_reason` then hold what the client sent, if
        it closed cleanly.
        """

    # -- acting on the connection ---------------------------------------------

    def write_message(
        self,
        message: str | bytes | bytearray | memoryview | dict[str, Any],
        binary: bool = False,
    ) -> Future[None]:
        """Send a message: text by default, binary if ``binary`` is true.

        ``message`` is a `str`, `bytes` (a `bytearray` or `memoryview` is
        copied when called) or a dict, sent as JSON text.  Returns a future resolved once the
        message has been handed to the network, for flow control; it fails
        with `WebSocketClosedError` if the connection closes first.  Raises
        `WebSocketClosedError` at once if the connection is already closed.
        """
        if self.ws_connection is None or self.ws_connection.is_closing():
            raise WebSocketClosedError()
        return self.ws_connection.write_message(message, binary=binary)

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping carrying ``data`` (at most 125 bytes).

        The client answers with a pong, reported to `on_pong`.  Pings can
        also be sent periodically with the ``websocket_ping_interval``
        setting.
        """
        payload = utf8(data)
        if self.ws_connection is None or self.ws_connection.is_closing():
            raise WebSocketClosedError()
        self.ws_connection.write_ping(payload)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start closing the connection.

        ``code`` is a close status code (1000 means normal closure) and
        ``reason`` a short text (at most 123 bytes in UTF-8); both are
        optional.  The connection ends when the client answers, or after a
        few seconds without an answer.
        """
        if self.ws_connection is not None:
            self.ws_connection.close(code, reason)
            self.ws_connection = None

    def set_nodelay(self, value: bool) -> None:
        """Send small messages at once, without waiting to combine them.

        Sets ``TCP_NODELAY`` (see `.IOStream.set_nodelay`); useful for
        latency-sensitive applications.  Call it from `open` or later.
        """
        if self.ws_connection is None:
            raise WebSocketClosedError()
        self.ws_connection.set_nodelay(value)

    # -- connection life cycle ------------------------------------------------

    def on_connection_close(self) -> None:
        """Clean up after the connection closed; calls `on_close` once."""
        if self.ws_connection is not None:
            self.ws_connection.on_connection_close()
            self.ws_connection = None
        if not self._on_close_called:
            self._on_close_called = True
            self.on_close()
            self._break_cycles()

    def on_ws_connection_close(
        self, close_code: int | None = None, close_reason: str | None = None
    ) -> None:
        """Record the client's close code and reason, then clean up."""
        self.close_code = close_code
        self.close_reason = close_reason
        self.on_connection_close()

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Send an error response, or drop the connection after the upgrade.

        Once the 101 response is out there is no HTTP response left to
        send, so an uncaught error just closes the connection.
        """
        connection = self.ws_connection
        if connection is None or connection.stream is None:
            super().send_error(status_code, **kwargs)
        else:
            connection.stream.close()

    def _break_cycles(self) -> None:
        # An upgraded handler stays in use until the connection closes.
        if self.get_status() != 101 or self._on_close_called:
            super()._break_cycles()

    def _detach_stream(self) -> IOStream:
        """Take the stream for the WebSocket; HTTP methods stop working."""
        for name in _HTTP_ONLY_METHODS:
            setattr(self, name, _not_supported_for_websockets)
        return self.detach()


# ---------------------------------------------------------------------------
# The protocol


def _relay_write(written: Future[None]) -> Future[None]:
    """The future of a write, failing with `WebSocketClosedError` if cut off."""
    if written.done() and not written.cancelled() and written.exception() is None:
        return written
    relayed: Future[None] = Future()

    def relay(done: Future[None]) -> None:
        if done.cancelled():
            relayed.cancel()
            return
        error = done.exception()
        if error is None:
            future_set_result_unless_cancelled(relayed, None)
        else:
            if isinstance(error, StreamClosedError):
                error = WebSocketClosedError()
            future_set_exception_unless_cancelled(relayed, error)

    written.add_done_callback(relay)
    # Nobody is obliged to look at a write's outcome.
    relayed.add_done_callback(lambda f: f.cancelled() or f.exception())
    return relayed


def _close_reason_for(error: wire.ProtocolError) -> str:
    """The reason sent when failing the connection because of ``error``."""
    if error.code == wire.CLOSE_MESSAGE_TOO_BIG:
        return "message too big"
    encoded = str(error).encode("utf-8")[: wire.MAX_CONTROL_PAYLOAD - 2]
    return encoded.decode("utf-8", "ignore")


def _encoded_length(data: str | bytes) -> int:
    """Length of ``data`` on the wire (before compression), in bytes."""
    if isinstance(data, bytes) or data.isascii():
        return len(data)
    return len(data.encode("utf-8"))


class WebSocketProtocol(abc.ABC):
    """The interface of a WebSocket protocol implementation.

    A protocol object serves one connection for ``handler`` (a
    `WebSocketHandler` or a `WebSocketClientConnection`), calling its
    ``on_message``, ``on_ping``, ``on_pong`` and ``on_ws_connection_close``.
    `WebSocketProtocol13` is the only implementation.
    """

    def __init__(self, handler: Any) -> None:
        """Serve the connection of ``handler``."""
        #: The handler or client connection this protocol reports to.
        self.handler: _WebSocketDelegate = handler
        #: The connection's stream, once the handshake is done.
        self.stream: IOStream | None = None
        #: Whether the peer's close frame was received (or the connection lost).
        self.client_terminated = False
        #: Whether our close frame was sent (or the connection lost).
        self.server_terminated = False

    def on_connection_close(self) -> None:
        """The stream closed: mark the connection as finished."""
        self._abort()

    def _abort(self) -> None:
        """Drop the connection at once, without a closing handshake."""
        self.client_terminated = True
        self.server_terminated = True
        if self.stream is not None:
            self.stream.close()
        self.close()

    def _run_callback(
        self, callback: Callable[..., Awaitable[None] | None], *args: Any
    ) -> Awaitable[None] | None:
        """Call an application callback; an exception is logged and aborts."""
        try:
            return callback(*args)
        except (Exception, asyncio.CancelledError):
            self._fail_with_uncaught()
            return None

    def _fail_with_uncaught(self) -> None:
        """An application callback failed: log it and drop the connection."""
        self.handler.log_exception(*sys.exc_info())
        self._abort()

    @abc.abstractmethod
    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the closing handshake (see `WebSocketHandler.close`)."""

    @abc.abstractmethod
    def is_closing(self) -> bool:
        """Whether the connection is closing or closed."""

    @abc.abstractmethod
    async def accept_connection(self, handler: WebSocketHandler) -> None:
        """Answer the opening handshake of ``handler``'s request and serve it."""

    @abc.abstractmethod
    def write_message(
        self,
        message: str | bytes | bytearray | memoryview | dict[str, Any],
        binary: bool = False,
    ) -> Future[None]:
        """Send a message (see `WebSocketHandler.write_message`)."""

    @property
    @abc.abstractmethod
    def selected_subprotocol(self) -> str | None:
        """The subprotocol agreed in the handshake, if any."""

    @abc.abstractmethod
    def write_ping(self, data: bytes) -> None:
        """Send a ping frame carrying ``data``."""

    @abc.abstractmethod
    def _process_server_headers(
        self, key: str | bytes, headers: httputil.HTTPHeaders
    ) -> None:
        """Client side: check the server's handshake response."""

    @abc.abstractmethod
    def start_pinging(self) -> None:
        """Start sending periodic pings, if configured."""

    @abc.abstractmethod
    async def _receive_frame_loop(self) -> None:
        """Read and dispatch messages until the connection closes."""

    @abc.abstractmethod
    def set_nodelay(self, x: bool) -> None:
        """Turn Nagle's algorithm off (true) or on for the connection."""


class WebSocketProtocol13(WebSocketProtocol):
    """RFC 6455 WebSockets, with optional permessage-deflate (RFC 7692).

    Used by both sides: ``mask_outgoing`` is true for a client (whose
    frames must be masked) and false for a server.  ``params`` holds the
    ping, size and compression settings.
    """

    #: Frame header bits, as in the first byte of a frame.
    FIN = wire.FIN
    #: Reserved bit 1 (marks a compressed message).
    RSV1 = wire.RSV1
    #: Reserved bit 2.
    RSV2 = wire.RSV2
    #: Reserved bit 3.
    RSV3 = wire.RSV3
    #: All the reserved bits.
    RSV_MASK = wire.RSV_MASK
    #: The opcode bits of the first byte.
    OPCODE_MASK = 0x0F

    def __init__(
        self, handler: Any, mask_outgoing: bool, params: _WebSocketParams
    ) -> None:
        """Serve ``handler``'s connection with the settings in ``params``."""
        super().__init__(handler)
        #: Whether outgoing frames are masked (true on the client side).
        self.mask_outgoing = mask_outgoing
        #: The connection's ping, size and compression settings.
        self.params = params
        #: The close code received from the peer, if any.
        self.close_code: int | None = None
        #: The close reason received from the peer, if any.
        self.close_reason: str | None = None
        #: Loop time of the last ping sent and pong received.
        self.last_ping = 0.0
        self.last_pong = 0.0
        self._received_pong = False
        self._selected_subprotocol: str | None = None
        self._compressor: wire.PerMessageDeflateCompressor | None = None
        self._decompressor: wire.PerMessageDeflateDecompressor | None = None
        self._close_timeout: object | None = None
        #: Set once the stream is to close as soon as its writes are out.
        self._closing_stream = False
        self._ping_task: Future[None] | None = None
        # A message handler's awaitable, to finish before the next message.
        self._awaited_handler: Awaitable[None] | None = None
        self._pong_waiter: Future[None] | None = None
        # Pong coalescing: whether a pong is still being written, and the
        # data of the latest ping received meanwhile.
        self._pong_in_flight = False
        self._owed_pong: bytes | None = None
        # Traffic counters: message data (uncompressed) and raw frames.
        self._message_bytes_in = self._message_bytes_out = 0
        self._wire_bytes_in = self._wire_bytes_out = 0

    @staticmethod
    def compute_accept_value(key: str | bytes) -> str:
        """The ``Sec-WebSocket-Accept`` answer to a ``Sec-WebSocket-Key``."""
        return wire.compute_accept_key(to_unicode(key))

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol agreed in the handshake, if any."""
        return self._selected_subprotocol

    @selected_subprotocol.setter
    def selected_subprotocol(self, value: str | None) -> None:
        self._selected_subprotocol = value

    # -- server handshake -----------------------------------------------------

    async def accept_connection(self, handler: WebSocketHandler) -> None:
        """Answer the handshake (400 if its headers are bad) and serve it."""
        problem = self._handshake_problem(handler.request.headers)
        if problem is not None:
            handler._refuse(400, problem)
            return
        self._negotiate(handler)
        self._send_handshake_response(handler)
        try:
            opened = handler.open(*handler.open_args, **handler.open_kwargs)
            if opened is not None:
                await opened
        except asyncio.CancelledError:
            if _task_is_cancelled():
                self._abort()
            else:
                self._fail_with_uncaught()
        except Exception:
            self._fail_with_uncaught()
        await self._receive_frame_loop()

    @staticmethod
    def _handshake_problem(headers: httputil.HTTPHeaders) -> str | None:
        """What is wrong with the request's WebSocket headers, if anything."""
        for name in ("Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version"):
            if not headers.get(name):
                return f"Missing/Invalid WebSocket headers: no {name}"
        if not wire.is_valid_client_key(headers["Sec-WebSocket-Key"]):
            return "Missing/Invalid WebSocket headers: bad Sec-WebSocket-Key"
        return None

    def _negotiate(self, handler: WebSocketHandler) -> None:
        """Agree on a subprotocol and on compression, setting the headers."""
        headers = handler.request.headers
        offered = split_list(headers.get("Sec-WebSocket-Protocol", ""))
        selected = handler.select_subprotocol(offered)
        if selected:
            if selected not in offered:
                raise ValueError(
                    f"select_subprotocol returned {selected!r}, which the client "
                    f"did not offer (offered: {offered})"
                )
            self._selected_subprotocol = selected
            handler.set_header("Sec-WebSocket-Protocol", selected)
        options = self.params.compression_options
        if options is None:
            return
        agreed = wire.accept_deflate_offer(headers.get("Sec-WebSocket-Extensions", ""))
        if agreed is not None:
            self._compressor, self._decompressor = wire.make_deflate_pair(
                agreed, "server", options
            )
            handler.set_header("Sec-WebSocket-Extensions", agreed.to_header())

    def _send_handshake_response(self, handler: WebSocketHandler) -> None:
        """Write the 101 response and take the stream over."""
        key = handler.request.headers["Sec-WebSocket-Key"].strip()
        handler.clear_header("Content-Type")
        handler.set_status(101)
        handler.set_header("Upgrade", "websocket")
        handler.set_header("Connection", "Upgrade")
        handler.set_header("Sec-WebSocket-Accept", self.compute_accept_value(key))
        handler.finish()
        self.stream = handler._detach_stream()
        self.stream.set_close_callback(self.on_connection_close)
        self.start_pinging()

    # -- client handshake -----------------------------------------------------

    def _process_server_headers(
        self, key: str | bytes, headers: httputil.HTTPHeaders
    ) -> None:
        """Check the server's 101 response; raise `WebSocketError` if bad."""
        if headers.get("Upgrade", "").lower() != "websocket":
            raise WebSocketError("Handshake response lacks 'Upgrade: websocket'")
        if "upgrade" not in _header_tokens(headers.get("Connection", "")):
            raise WebSocketError("Handshake response lacks 'Connection: Upgrade'")
        if headers.get("Sec-WebSocket-Accept", "").strip() != (
            self.compute_accept_value(key)
        ):
            raise WebSocketError("Invalid Sec-WebSocket-Accept in handshake response")
        extensions = headers.get("Sec-WebSocket-Extensions", "")
        if extensions:
            options = self.params.compression_options
            if options is None:
                raise WebSocketError(
                    f"Server accepted unoffered extension {extensions!r}"
                )
            try:
                agreed = wire.check_deflate_response(extensions)
            except wire.NegotiationError as e:
                raise WebSocketError(f"Unsupported extension response: {e}") from None
            if agreed is not None:
                self._compressor, self._decompressor = wire.make_deflate_pair(
                    agreed, "client", options
                )
        self._selected_subprotocol = headers.get("Sec-WebSocket-Protocol", None)

    # -- receiving ------------------------------------------------------------

    async def _receive_frame_loop(self) -> None:
        """Read and dispatch messages until the connection closes.

        Then tells the handler, with the close code and reason received.
        """
        try:
            await self._read_messages()
        except StreamClosedError:
            self._abort()
        except wire.ProtocolError as e:
            gen_log.debug("WebSocket protocol error: %s", e)
            self._fail(e)
        except asyncio.CancelledError:
            self._abort()
        if self._awaited_handler is not None:
            # A message handler started before the connection went away
            # still runs to its end, as it would have without the close.
            handling, self._awaited_handler = self._awaited_handler, None
            await self._finish_handling(handling)
        self.handler.on_ws_connection_close(self.close_code, self.close_reason)

    async def _read_messages(self) -> None:
        """Feed the stream's data to a message reader, handling each message.

        Data is handled as it arrives, from the stream's event handling,
        until a handler returns an awaitable (awaited here before the next
        message, so that messages are handled in order) or a large payload
        is to be read directly.
        """
        assert self.stream is not None
        stream = self.stream
        reader = wire.MessageReader(
            expect_masked=not self.mask_outgoing,
            max_message_size=self.params.max_message_size,
            decompressor=self._decompressor,
        )
        parser = reader.parser

        def receive(data: bytes) -> bool:
            self._wire_bytes_in += len(data)
            parser.receive_data(data)
            return self._handle_buffered(reader)

        loop = asyncio.get_running_loop()
        turn_started = loop.time()
        while not self.client_terminated:
            if loop.time() - turn_started >= _MAX_TURN:
                # Reads and handlers may all complete without suspending
                # while a peer keeps sending: let other connections run.
                await asyncio.sleep(0)
                turn_started = loop.time()
            if self._awaited_handler is not None:
                handling, self._awaited_handler = self._awaited_handler, None
                await self._finish_handling(handling)
            elif parser.payload_missing >= _DIRECT_READ_SIZE:
                await self._read_payload_directly(parser)
            else:
                await stream._read_chunks(receive)
                continue
            self._handle_buffered(reader)

    async def _finish_handling(self, handling: Awaitable[None]) -> None:
        """Wait for a message handler; a failure is logged and aborts."""
        try:
            await handling
        except asyncio.CancelledError:
            if _task_is_cancelled():
                raise
            self._fail_with_uncaught()
        except Exception:
            self._fail_with_uncaught()

    def _handle_buffered(self, reader: wire.MessageReader) -> bool:
        """Handle the complete messages received; whether to read on as is.

        Stops early at a message whose handling must be awaited (kept in
        ``_awaited_handler``) or once the connection is closing; false then,
        and also when the rest of a large payload is to be read directly.
        """
        while not self.client_terminated:
            message = reader.next_message()
            if message is None:
                return reader.parser.payload_missing < _DIRECT_READ_SIZE
            handled = self._handle_message(message)
            if handled is not None:
                self._awaited_handler = handled
                return False
        return False

    async def _read_payload_directly(self, parser: wire.FrameParser) -> None:
        """Read (part of) a large payload straight into the parser's buffer."""
        assert self.stream is not None
        # Each read takes at most 1 MiB or as much as has already arrived,
        # so a frame's length claim alone cannot make us allocate much; the
        # doubling keeps copying linear.
        size = min(parser.payload_missing, max(_READ_SIZE, parser.buffered))
        with parser.receive_into(size) as target:
            await self.stream.read_into(cast(bytearray, target))
        self._wire_bytes_in += size

    def _handle_message(self, message: wire.Message) -> Awaitable[None] | None:
        """Dispatch a message or control frame; may return an awaitable."""
        opcode, data = message
        if opcode in wire.DATA_OPCODES:
            self._message_bytes_in += _encoded_length(data)
            return self._run_callback(self.handler.on_message, data)
        assert isinstance(data, bytes)
        if opcode == wire.OPCODE_CLOSE:
            code, reason = wire.decode_close_payload(data)
            self.client_terminated = True
            self.close_code, self.close_reason = code, reason or None
            self.close(code)  # echo the code, as RFC 6455 asks
            return None
        if opcode == wire.OPCODE_PING:
            if not self.server_terminated:
                self._answer_ping(data)
            return self._run_callback(self.handler.on_ping, data)
        self.last_pong = IOLoop.current().time()
        self._received_pong = True
        if self._pong_waiter is not None:
            future_set_result_unless_cancelled(self._pong_waiter, None)
        return self._run_callback(self.handler.on_pong, data)

    def _answer_ping(self, data: bytes) -> None:
        """Send a pong, or remember ``data`` while an earlier pong is unsent.

        A peer that floods pings without reading gets one pong at a time,
        carrying the latest ping's data, so unsent pongs cannot pile up.
        """
        if self._pong_in_flight:
            self._owed_pong = data
            return
        written = self._write_frame(wire.OPCODE_PONG, data)
        if not written.done():
            self._pong_in_flight = True
            written.add_done_callback(self._on_pong_sent)

    def _on_pong_sent(self, _: Future[None]) -> None:
        self._pong_in_flight = False
        owed, self._owed_pong = self._owed_pong, None
        if owed is not None and not self.is_closing():
            try:
                self._answer_ping(owed)
            except WebSocketClosedError:
                pass

    # -- sending --------------------------------------------------------------

    def _write_frame(self, opcode: int, payload: bytes) -> Future[None]:
        return self._write(
            *wire.encode_frame_parts(opcode, payload, mask=self.mask_outgoing)
        )

    def _write(self, header: bytes, payload: bytes) -> Future[None]:
        """Send a frame given as its header and payload."""
        if self.stream is None:
            raise WebSocketClosedError("WebSocket connection is not open")
        try:
            if len(payload) < _SEPARATE_PAYLOAD_SIZE:
                written = self.stream.write(header + payload)
            else:
                # The stream queues a large payload without copying it.
                self.stream.write(header)
                written = self.stream.write(payload)
        except StreamClosedError:
            raise WebSocketClosedError() from None
        self._wire_bytes_out += len(header) + len(payload)
        return _relay_write(written)

    def write_message(
        self,
        message: str | bytes | bytearray | memoryview | dict[str, Any],
        binary: bool = False,
    ) -> Future[None]:
        """Send a message; see `WebSocketHandler.write_message`."""
        if isinstance(message, dict):
            message = json_encode(message)
        elif isinstance(message, (bytearray, memoryview)):
            message = bytes(message)
        elif not isinstance(message, (str, bytes)):
            raise TypeError(
                "write_message() needs str, bytes or dict, "
                f"not {type(message).__name__}"
            )
        if self.is_closing():
            raise WebSocketClosedError()
        opcode = wire.OPCODE_BINARY if binary else wire.OPCODE_TEXT
        payload = message.encode("utf-8") if isinstance(message, str) else message
        self._message_bytes_out += len(payload)
        if self.mask_outgoing or self._compressor is not None:
            return self._write(
                *wire.encode_message_parts(
                    opcode,
                    payload,
                    mask=self.mask_outgoing,
                    compressor=self._compressor,
                )
            )
        # A server's uncompressed data frame needs no checks.
        return self._write(wire.frame_header(wire.FIN | opcode, len(payload)), payload)

    def write_ping(self, data: bytes) -> None:
        """Send a ping carrying ``data`` (at most 125 bytes)."""
        if not isinstance(data, bytes):
            raise TypeError(f"ping data must be bytes, not {type(data).__name__}")
        if self.is_closing():
            raise WebSocketClosedError()
        self._write_frame(wire.OPCODE_PING, data)

    def set_nodelay(self, x: bool) -> None:
        """Turn Nagle's algorithm off (true) or on for the connection."""
        if self.stream is None:
            raise WebSocketClosedError("WebSocket connection is not open")
        self.stream.set_nodelay(x)

    # -- closing --------------------------------------------------------------

    def is_closing(self) -> bool:
        """Whether a close frame was sent or received, or the stream closed."""
        return (
            self.client_terminated
            or self.server_terminated
            or (self.stream is not None and self.stream.closed())
        )

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Send a close frame (once) and close the stream when the peer answers.

        Raises `ValueError` for a code that may not be sent or a reason
        longer than 123 bytes.  Without an answer the connection is dropped
        after a few seconds.
        """
        payload = wire.encode_close_payload(code, reason)
        if not self.server_terminated:
            self.server_terminated = True
            if self.stream is not None and not self.stream.closed():
                try:
                    self._write_frame(wire.OPCODE_CLOSE, payload)
                except WebSocketClosedError:
                    self._abort()
        self._stop_pinging()
        if self.stream is None:
            return
        if self.client_terminated:
            self._cancel_close_timeout()
            self._close_stream_when_flushed()
        elif self._close_timeout is None:
            io_loop = self.stream.io_loop
            self._close_timeout = io_loop.add_timeout(
                io_loop.time() + _CLOSE_TIMEOUT, self._abort
            )

    def _fail(self, error: wire.ProtocolError) -> None:
        """Fail the connection: close frame with the error's code, then hang up."""
        if not self.server_terminated and self.stream is not None:
            payload = wire.encode_close_payload(error.code, _close_reason_for(error))
            try:
                self._write_frame(wire.OPCODE_CLOSE, payload)
            except WebSocketClosedError:
                pass
        self.client_terminated = self.server_terminated = True
        self.close()

    def _cancel_close_timeout(self) -> None:
        if self._close_timeout is not None and self.stream is not None:
            self.stream.io_loop.remove_timeout(self._close_timeout)
        self._close_timeout = None

    def on_connection_close(self) -> None:
        """The connection is over: drop it, unless it is closing cleanly."""
        if not self._closing_stream:
            self._abort()

    def _close_stream_when_flushed(self) -> None:
        """Close the stream once queued frames (the close frame) are sent."""
        stream = self.stream
        assert stream is not None
        if stream.closed() or not stream.writing():
            stream.close()
            return
        self._closing_stream = True
        io_loop = stream.io_loop
        deadline = io_loop.add_timeout(io_loop.time() + _CLOSE_TIMEOUT, stream.close)

        def close_now(_: Future[None]) -> None:
            io_loop.remove_timeout(deadline)
            stream.close()

        stream.write(b"").add_done_callback(close_now)

    # -- keepalive ------------------------------------------------------------

    @property
    def ping_interval(self) -> float:
        """Seconds between keepalive pings; 0 for none."""
        return self.params.ping_interval or 0

    @property
    def ping_timeout(self) -> float:
        """Seconds to wait for a pong before closing the connection.

        Defaults to the ping interval, and cannot exceed it (a longer value
        is clamped, with a warning logged once).
        """
        timeout = self.params.ping_timeout
        interval = self.ping_interval
        if timeout is None:
            return interval
        if interval and timeout > interval:
            de_dupe_gen_log(
                logging.WARNING,
                f"The websocket_ping_timeout ({timeout}) cannot be longer than "
                f"the websocket_ping_interval ({interval}); using {interval}",
            )
            return interval
        return timeout

    def start_pinging(self) -> None:
        """Start the keepalive pings if a ping interval is set."""
        if self.ping_interval > 0 and self._ping_task is None:
            self.last_ping = self.last_pong = IOLoop.current().time()
            self._ping_task = asyncio.ensure_future(self.periodic_ping())

    def _stop_pinging(self) -> None:
        if self._ping_task is not None:
            self._ping_task.cancel()
            self._ping_task = None

    @staticmethod
    def ping_sleep_time(*, last_ping_time: float, interval: float, now: float) -> float:
        """Seconds from ``now`` until the ping due ``interval`` after the last."""
        return max(0.0, last_ping_time + interval - now)

    async def periodic_ping(self) -> None:
        """Ping every `ping_interval` seconds; close if a pong is late.

        A ping unanswered after `ping_timeout` seconds closes the
        connection with the reason ``"ping timed out"``.
        """
        interval, timeout = self.ping_interval, self.ping_timeout
        io_loop = IOLoop.current()
        while not self.is_closing():
            await asyncio.sleep(
                self.ping_sleep_time(
                    last_ping_time=self.last_ping, interval=interval, now=io_loop.time()
                )
            )
            if self.is_closing():
                return
            self.last_ping = io_loop.time()
            self._received_pong = False
            waiter: Future[None] = Future()
            self._pong_waiter = waiter
            self._write_frame(wire.OPCODE_PING, b"")
            if timeout > 0:
                await asyncio.wait([waiter], timeout=timeout)
                if not self._received_pong and not self.is_closing():
                    self.close(reason="ping timed out")
                    return


# ---------------------------------------------------------------------------
# Client side


class WebSocketClientConnection(simple_httpclient._HTTPConnection):
    """The client end of a WebSocket connection; made by `websocket_connect`.

    Send with `write_message`, receive with `read_message` (or with the
    ``on_message_callback`` given to `websocket_connect`), and finish with
    `close`.
    """

    protocol: WebSocketProtocol | None = None
    # Class defaults, so that __del__ works on a half-built object too.
    _handed_out = False
    _close_called = False

    def __init__(
        self,
        request: httpclient.HTTPRequest,
        on_message_callback: Callable[[None | str | bytes], None] | None = None,
        compression_options: dict[str, Any] | None = None,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        max_message_size: int = _DEFAULT_MAX_MESSAGE_SIZE,
        subprotocols: list[str] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        """Start connecting; see `websocket_connect` for the arguments."""
        #: Resolves to this connection once the handshake succeeded.
        self.connect_future: Future[WebSocketClientConnection] = Future()
        #: Messages waiting for `read_message` (``None`` marks the end).
        self.read_queue: Queue[None | str | bytes] = Queue(1)
        #: The ``Sec-WebSocket-Key`` sent in the handshake.
        self.key = wire.make_client_key()
        #: The close code the server sent, once the connection is closed.
        self.close_code: int | None = None
        #: The close reason the server sent, once the connection is closed.
        self.close_reason: str | None = None
        #: The connection's ping, size and compression settings.
        self.params = _WebSocketParams(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_message_size=max_message_size,
            compression_options=compression_options,
        )
        #: The protocol object, once connected (``None`` after `close`).
        self.protocol = None
        self._on_message_callback = on_message_callback
        self._end_delivered = False
        # The queue put that the frame loop waits for (the queue is full).
        self._blocked_put: Future[None] | None = None
        self._offered_subprotocols = list(subprotocols or [])
        self._prepare_request(request)
        #: The TCP client opening the connection.
        self.tcp_client = TCPClient(resolver=resolver)
        super().__init__(
            None,
            request,
            lambda: None,
            self._on_http_response,
            _CLIENT_MAX_BUFFER_SIZE,
            self.tcp_client,
            _CLIENT_MAX_HEADER_SIZE,
            _CLIENT_MAX_BUFFER_SIZE,
        )

    def _prepare_request(self, request: httpclient.HTTPRequest) -> None:
        """Turn the ws/wss URL into http/https and add the handshake headers."""
        scheme, sep, rest = request.url.partition(":")
        http_scheme = {"ws": "http", "wss": "https"}.get(scheme.lower())
        if http_scheme is None or not sep:
            raise ValueError(
                f"WebSocket URLs must use ws: or wss:, got {request.url!r}"
            )
        request.url = http_scheme + sep + rest
        #: The host name the connection is made to.
        self.parsed_hostname = urllib.parse.urlsplit(request.url).hostname
        request.headers.update(
            {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": self.key,
                "Sec-WebSocket-Version": "13",
            }
        )
        if self._offered_subprotocols:
            request.headers["Sec-WebSocket-Protocol"] = ",".join(
                self._offered_subprotocols
            )
        if self.params.compression_options is not None:
            request.headers["Sec-WebSocket-Extensions"] = wire.CLIENT_OFFER
        request.follow_redirects = False

    def __del__(self) -> None:
        """Warn (`ResourceWarning`) about a connection never given `close`.

        Even one the server closed: calling `close` is what releases it.
        """
        if self._handed_out and not self._close_called:
            warnings.warn(
                "Unclosed WebSocketClientConnection", ResourceWarning, stacklevel=2
            )

    # -- the handshake --------------------------------------------------------

    async def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        """Complete the handshake on a 101 response; otherwise act as HTTP."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        if start_line.code != 101:
            await super().headers_received(start_line, headers)
            return
        self._remove_timeout()
        # ``code`` stays None: it is set only for a handshake failing with
        # an HTTP error (see _HTTPConnection.headers_received).
        self.reason, self.headers = start_line.reason, headers
        protocol = self.get_websocket_protocol()
        try:
            protocol._process_server_headers(self.key, headers)
            self._check_subprotocol(protocol.selected_subprotocol)
        except WebSocketError as e:
            self._fail_handshake(e)
            return
        self.protocol = protocol
        self.final_callback = None
        protocol.stream = self.connection.detach()
        self.io_loop.add_callback(protocol._receive_frame_loop)
        protocol.start_pinging()
        self._handed_out = not self.connect_future.done()
        future_set_result_unless_cancelled(self.connect_future, self)

    def _check_subprotocol(self, selected: str | None) -> None:
        if selected is not None and selected not in self._offered_subprotocols:
            raise WebSocketError(f"Server selected unoffered subprotocol {selected!r}")

    def _fail_handshake(self, error: WebSocketError) -> None:
        self.final_callback = None
        self.connection.detach().close()
        future_set_exception_unless_cancelled(self.connect_future, error)

    def _on_http_response(self, response: httpclient.HTTPResponse) -> None:
        if not self.connect_future.done():
            error = response.error or WebSocketError("Non-websocket response")
            self.connect_future.set_exception(error)

    def get_websocket_protocol(self) -> WebSocketProtocol:
        """The protocol object for a new connection."""
        return WebSocketProtocol13(self, mask_outgoing=True, params=self.params)

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol the server chose, if any."""
        if self.protocol is None:
            raise WebSocketClosedError("Client connection has been closed")
        return self.protocol.selected_subprotocol

    # -- using the connection -------------------------------------------------

    def write_message(
        self,
        message: str | bytes | bytearray | memoryview | dict[str, Any],
        binary: bool = False,
    ) -> Future[None]:
        """Send a message; see `WebSocketHandler.write_message`."""
        if self.protocol is None:
            raise WebSocketClosedError("Client connection has been closed")
        return self.protocol.write_message(message, binary=binary)

    def read_message(
        self,
        callback: Callable[[Future[None | str | bytes]], None] | None = None,
    ) -> Awaitable[None | str | bytes]:
        """The next message: a `str`, `bytes`, or ``None`` once closed.

        Returns an awaitable.  ``callback``, if given, is called with the
        future once it is resolved.
        """
        awaitable = self.read_queue.get()
        if callback is not None:
            self.io_loop.add_future(asyncio.ensure_future(awaitable), callback)
        return awaitable

    def ping(self, data: bytes = b"") -> None:
        """Send a ping carrying ``data`` (at most 125 bytes); see `on_pong`."""
        payload = utf8(data)
        if self.protocol is None:
            raise WebSocketClosedError("Client connection has been closed")
        self.protocol.write_ping(payload)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start closing the connection (see `WebSocketHandler.close`).

        Messages received meanwhile can still be read with `read_message`
        (then ``None``), except those that find its queue full: the
        closing handshake never waits for a reader.
        """
        self._close_called = True
        if self._blocked_put is not None:
            # Let the frame loop go on to the closing handshake.
            self._blocked_put.cancel()
            self._blocked_put = None
        if self.protocol is not None:
            self.protocol.close(code, reason)
            self.protocol = None

    # -- callbacks --------------------------------------------------------------

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Deliver a message to the callback or to `read_message`."""
        return self._on_message(message)

    def _on_message(self, message: None | str | bytes) -> Awaitable[None] | None:
        if self._on_message_callback is not None:
            self._on_message_callback(message)
            return None
        if self._close_called and message is not None and self.read_queue.full():
            return None  # nobody reads: never hold up the closing handshake
        put = self.read_queue.put(message)
        if put.done() or message is None:
            return None  # nothing waits for the end marker to find room
        # The frame loop waits until the message is read or close() drops it.
        self._blocked_put = put
        delivered: Future[None] = Future()
        put.add_done_callback(
            lambda _: future_set_result_unless_cancelled(delivered, None)
        )
        return delivered

    def on_ping(self, data: bytes) -> None:
        """Called when a ping arrives (it has already been answered)."""

    def on_pong(self, data: bytes) -> None:
        """Called when the answer to a ping arrives."""

    def on_connection_close(self) -> None:
        """The connection closed: fail a pending connect, signal the end."""
        # With final_callback gone the HTTP answer is on its way to
        # _on_http_response (a server refusing the upgrade and closing at
        # once), which resolves the connect.
        if not self.connect_future.done() and self.final_callback is not None:
            self.connect_future.set_exception(StreamClosedError())
        if not self._end_delivered:
            self._end_delivered = True
            self._on_message(None)
        self.tcp_client.close()
        super().on_connection_close()

    def on_ws_connection_close(
        self, close_code: int | None = None, close_reason: str | None = None
    ) -> None:
        """Record the server's close code and reason, then clean up."""
        self.close_code = close_code
        self.close_reason = close_reason
        self.on_connection_close()

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log an exception raised by a callback (``on_message_callback``)."""
        assert typ is not None and value is not None
        app_log.error("Uncaught exception %s", value, exc_info=(typ, value, tb))


def websocket_connect(
    url: str | httpclient.HTTPRequest,
    callback: Callable[[Future[WebSocketClientConnection]], None] | None = None,
    connect_timeout: float | None = None,
    on_message_callback: Callable[[None | str | bytes], None] | None = None,
    compression_options: dict[str, Any] | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_message_size: int = _DEFAULT_MAX_MESSAGE_SIZE,
    subprotocols: list[str] | None = None,
    resolver: Resolver | None = None,
) -> Awaitable[WebSocketClientConnection]:
    """Open a WebSocket connection; resolves to a `WebSocketClientConnection`.

    ``url`` is a ``ws://`` or ``wss://`` URL, or an `~tornado.httpclient.HTTPRequest` for such
    a URL (to send extra headers or set TLS options; ``connect_timeout``
    must then be set on the request).

    Messages go to ``on_message_callback`` if given (``None`` once the
    connection closes), otherwise they queue up for
    `~WebSocketClientConnection.read_message`.  ``compression_options``
    (a dict, possibly empty; see `WebSocketHandler.get_compression_options`)
    offers permessage-deflate.  ``ping_interval``, ``ping_timeout`` and
    ``max_message_size`` work as the application settings of the same names
    do for `WebSocketHandler`.  ``subprotocols`` lists the subprotocols to
    offer, in order of preference.  ``resolver`` is the `.Resolver` to use.
    ``callback``, if given, is called with the future once it is resolved.

    A handshake answered with an HTTP error raises `.HTTPClientError`; one
    answered with something that is not a valid upgrade raises
    `WebSocketError`.
    """
    if isinstance(url, httpclient.HTTPRequest):
        if connect_timeout is not None:
            raise ValueError("set connect_timeout on the HTTPRequest instead")
        request = url
        # The connection adds headers; keep the caller's object untouched.
        request.headers = httputil.HTTPHeaders(request.headers)
    else:
        request = httpclient.HTTPRequest(url, connect_timeout=connect_timeout)
    proxy = cast(
        httpclient.HTTPRequest,
        httpclient._RequestProxy(request, httpclient.HTTPRequest._DEFAULTS),
    )
    connection = WebSocketClientConnection(
        proxy,
        on_message_callback=on_message_callback,
        compression_options=compression_options,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_message_size=max_message_size,
        subprotocols=subprotocols,
        resolver=resolver,
    )
    if callback is not None:
        IOLoop.current().add_future(connection.connect_future, callback)
    return connection.connect_future
