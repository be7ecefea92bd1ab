"""HTTP/1.x connections, for both clients and servers.

`HTTP1Connection` carries one HTTP/1.x message exchange over an
`.IOStream`: on a server it reads a request and writes the response, on a
client it writes a request and reads the response.  `HTTP1ServerConnection`
serves a whole keep-alive connection, one `HTTP1Connection` per request.

The wire format itself (parsing heads, body framing, chunked coding) lives in
pure functions in a private module; the classes here only move bytes between
those functions, the stream and the application's delegates, and apply the
connection-level rules: keep-alive, ``Expect: 100-continue``, size limits and
timeouts.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import socket
import types
import zlib
from asyncio import Future
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, cast

from tornado import _httpgrammar as grammar
from tornado import httputil, iostream
from tornado._http1wire import (
    BAD_REQUEST_RESPONSE,
    CONTINUE_RESPONSE,
    HEAD_END_RE,
    NO_BODY,
    BodyEncoder,
    BodyKind,
    ChunkedDecoder,
    Framing,
    check_body_size,
    check_content_length,
    check_request_host,
    connection_header,
    expects_continue,
    format_plain_response,
    format_request_head,
    format_response_head,
    keep_alive_requested,
    parse_request_head,
    parse_response_head,
    plan_request_body,
    plan_response_body,
    read_request_head,
    request_body_framing,
    response_body_framing,
    response_closes_connection,
)
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.ioloop import IOLoop
from tornado.log import app_log, gen_log
from tornado.util import GzipDecompressor

__all__ = [
    "HTTP1ConnectionParameters",
    "HTTP1Connection",
    "HTTP1ServerConnection",
    "parse_int",
    "parse_hex_int",
    "is_transfer_encoding_chunked",
]

#: Matches a carriage return or a line feed (bytes).
CR_OR_LF_RE = re.compile(b"\r|\n")
#: Matches a run of decimal digits (the shared HTTP grammar's rule).
DIGITS = grammar.DIGITS_RE
#: Matches a run of hexadecimal digits (the shared HTTP grammar's rule).
HEXDIGITS = grammar.HEX_DIGITS_RE

_StartLine = RequestStartLine | ResponseStartLine

# A client gives up on a server sending more interim (1xx) responses.
_MAX_INTERIM_RESPONSES = 10
# Decoding a chunked body from buffered data never blocks: after this much
# work (body bytes plus a fixed cost per read) other connections get a turn.
_CHUNKED_WORK_PER_TURN = 256 * 1024
_CHUNKED_WORK_PER_READ = 512


def parse_int(s: str) -> int:
    """Parse a non-negative decimal integer made only of digits.

    Unlike `int`, signs, whitespace and underscores are rejected with
    `ValueError`.
    """
    return grammar.parse_digits(s)


def parse_hex_int(s: str) -> int:
    """Parse a non-negative hexadecimal integer made only of hex digits.

    Unlike ``int(s, 16)``, signs, whitespace, underscores and a ``0x``
    prefix are rejected with `ValueError`.
    """
    return grammar.parse_hex_digits(s)


def is_transfer_encoding_chunked(headers: HTTPHeaders) -> bool:
    """Whether a received message's body uses the chunked transfer coding.

    Raises `.HTTPInputError` when ``Transfer-Encoding`` is combined with
    ``Content-Length`` or is anything but a single ``chunked``.
    """
    if "Transfer-Encoding" not in headers:
        return False
    return request_body_framing(headers).kind is BodyKind.CHUNKED


class _QuietException(Exception):
    """Raised after a delegate's exception has been logged, to unwind quietly."""


class _DelegateErrorsLogged:
    """Context manager around calls into application delegates.

    An exception escaping the delegate is logged to ``tornado.application``
    as an uncaught exception and replaced by `_QuietException`, which ends
    the connection without logging again.  `.HTTPInputError` passes through
    unchanged: a delegate (such as the gzip decoder) raises it to reject the
    message as malformed, which is answered like any other bad input.
    """

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if value is None or isinstance(value, (HTTPInputError, _QuietException)):
            return
        if not isinstance(value, Exception):
            return  # cancellation and exits propagate untouched
        raise _logged_as_uncaught(value) from value


_delegate_errors_logged = _DelegateErrorsLogged()


def _logged_as_uncaught(error: Exception) -> _QuietException:
    """Log ``error`` as an uncaught exception of the application; return the
    `_QuietException` to raise in its place.

    `_DelegateErrorsLogged` uses it; the per-request paths call it from a
    plain ``try``, which costs nothing until something is raised (a ``with``
    costs two calls every time).
    """
    app_log.error(
        "Uncaught exception", exc_info=(type(error), error, error.__traceback__)
    )
    return _QuietException()


_DEFAULT_CHUNK_SIZE = 64 * 1024
_DEFAULT_MAX_HEADER_SIZE = 64 * 1024


class HTTP1ConnectionParameters:
    """Settings for `HTTP1Connection` and `HTTP1ServerConnection`.

    Limits:

    * ``chunk_size``: the most body bytes passed to a delegate at once
      (64 KiB when not given).
    * ``max_header_size``: the largest start line plus headers accepted, in
      bytes (64 KiB when not given).
    * ``max_body_size``: the largest body accepted, in bytes; ``None`` uses
      the stream's ``max_buffer_size``.

    Timeouts, in seconds (``None`` waits forever):

    * ``header_timeout``: for a complete head, including the wait for the
      next request on a kept-alive connection.
    * ``body_timeout``: for a complete body.

    Behaviour:

    * ``no_keep_alive``: close the connection after each exchange.
    * ``decompress``: decode bodies sent with ``Content-Encoding: gzip``.

    Each setting is also an attribute of the same name.
    """

    _SETTINGS = (
        "chunk_size",
        "max_header_size",
        "max_body_size",
        "header_timeout",
        "body_timeout",
        "no_keep_alive",
        "decompress",
    )

    def __init__(
        self,
        no_keep_alive: bool = False,
        chunk_size: int | None = None,
        max_header_size: int | None = None,
        header_timeout: float | None = None,
        max_body_size: int | None = None,
        body_timeout: float | None = None,
        decompress: bool = False,
    ) -> None:
        # A zero size means "the default" too, as in earlier releases.
        self.chunk_size: int = chunk_size or _DEFAULT_CHUNK_SIZE
        self.max_header_size: int = max_header_size or _DEFAULT_MAX_HEADER_SIZE
        self.max_body_size = max_body_size
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.no_keep_alive = no_keep_alive
        self.decompress = decompress

    def __repr__(self) -> str:
        """Show every setting."""
        settings = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self._SETTINGS
        )
        return f"{type(self).__name__}({settings})"


# The encoder of a body written whole with its head: nothing more may be
# written and nothing is owed, as with a LENGTH encoder at 0 bytes remaining.
# Shared (its state never changes: only empty chunks pass it).
_BODY_COMPLETE = BodyEncoder(NO_BODY)


class _ParsedHead(NamedTuple):
    """What a received head says, and what it means for the connection."""

    start_line: _StartLine
    headers: HTTPHeaders
    framing: Framing
    #: Whether the connection may carry another message afterwards.
    keep_alive: bool


class _Parked:
    """The type of `_PARKED`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "_PARKED"


#: What a server's `HTTP1Connection._read_request` gives when the request
#: was read and the application is still preparing its response.
_PARKED = _Parked()


class HTTP1Connection(httputil.HTTPConnection):
    """One HTTP/1.x request/response exchange over a stream.

    A client writes its request with `write_headers`, `write` and `finish`,
    then reads the response with `read_response`.  On a server
    (`HTTP1ServerConnection` creates one per request) `read_response` reads
    the request and the application answers through the same three writing
    methods.

    ``context`` is an opaque object describing the connection (a server uses
    it for the client's address); it appears in log messages.
    """

    def __init__(
        self,
        stream: iostream.IOStream,
        is_client: bool,
        params: HTTP1ConnectionParameters | None = None,
        context: object | None = None,
    ) -> None:
        #: Whether this is the client side of the connection.
        self.is_client = is_client
        #: The underlying stream; ``None`` once `detach` was called.
        self.stream = stream
        if params is None:
            params = HTTP1ConnectionParameters()
        #: The `HTTP1ConnectionParameters` in effect.
        self.params = params
        #: The ``context`` given to the constructor.
        self.context = context
        #: Whether the connection closes after this exchange.
        self.no_keep_alive = params.no_keep_alive
        self._max_body_size = (
            params.max_body_size
            if params.max_body_size is not None
            else stream.max_buffer_size
        )
        self._body_timeout = params.body_timeout
        # Shared by the requests of a server connection (see _WaitTimer).
        self._head_timer: _WaitTimer | None = None
        self._detached = False
        # Whether the stream is closed once this exchange is over.
        self._disconnect_on_finish = False
        self._close_callback: Callable[[], None] | None = None
        self._request_start_line: RequestStartLine | None = None
        self._response_started = False
        self._encoder: BodyEncoder | None = None
        self._omit_body = False
        self._pending_write: Future[None] | None = None
        self._read_finished = False
        self._write_finished = False
        # Resolved once the response is written (or the connection ends).
        self._finish_future: Future[None] = Future()
        # The server connection waiting, with no task, for this exchange to end.
        self._parked_in: HTTP1ServerConnection | None = None
        # A head read the server connection started while no task ran.
        self._early_head: Future[bytes] | None = None

    # -- reading ----------------------------------------------------------------

    def read_response(self, delegate: HTTPMessageDelegate) -> Awaitable[bool]:
        """Read one message (a response on a client, a request on a server).

        Its parts go to ``delegate``, an `.HTTPMessageDelegate`.  The
        result is true if the connection can carry another message, false
        if it is closed (or detached).
        """
        return cast(Awaitable[bool], self._read_message(self._wrap(delegate), None))

    def _serve_with(
        self, early_head: Future[bytes] | None, head_timer: _WaitTimer | None
    ) -> None:
        """Set up by the `HTTP1ServerConnection` about to read a request here:
        a head read it already started (or None) and its head timer."""
        self._early_head = early_head
        self._head_timer = head_timer

    def _read_request(
        self, delegate: HTTPMessageDelegate, server: HTTP1ServerConnection
    ) -> Awaitable[bool | _Parked]:
        """Like `read_response` on a server, but may leave the response pending.

        `_PARKED` comes out when the application is still preparing its
        response: ``server``'s task can end rather than wait (a parked
        long-polling request then holds no coroutines here), and ``server``
        goes on once the response is written, with `_end_parked_exchange`.
        """
        return self._read_message(self._wrap(delegate), server)

    def _wrap(self, delegate: HTTPMessageDelegate) -> HTTPMessageDelegate:
        if not self.params.decompress:
            return delegate
        return _GzipMessageDelegate(
            delegate, self.params.chunk_size, lambda: self._max_body_size
        )

    async def _read_message(
        self, delegate: HTTPMessageDelegate, park_in: HTTP1ServerConnection | None
    ) -> bool | _Parked:
        # Whether the delegate still has to hear that the message ended early.
        owes_close_notice = True
        parked = False
        try:
            try:
                head = await self._read_final_head(delegate)
                if head is None or self._detached:
                    owes_close_notice = head is None
                    return False
                check_content_length(head.framing, self._max_body_size)
                if not self.is_client:
                    self._continue_if_expected(head)
                if head.framing is not NO_BODY and not await self._read_body_in_time(
                    head.framing, delegate
                ):
                    return False
                self._read_finished = True
                if self.is_client or not self._write_finished:
                    with _delegate_errors_logged:
                        delegate.finish()
                owes_close_notice = False
            except HTTPInputError as e:
                await self._reject_input(e)
                return False
            except _QuietException:
                self.close()  # a delegate failed; that was logged
                return False
            # A client that wrote no request has nothing to wait for.
            writing = self._response_started or not self.is_client
            if writing and not self._finish_future.done() and not self._detached:
                # A server waits for the application to finish its response.
                # The stream meanwhile reports a client that goes away, so
                # the application's close callback can run.
                if not self.stream.closed():
                    self.stream.set_close_callback(self._on_connection_close)
                    if park_in is not None:
                        # An application answering at once (its task is
                        # already scheduled) gets its turn before parking.
                        await asyncio.sleep(0)
                        if not self._finish_future.done():
                            parked = True
                            self._parked_in = park_in
                            return _PARKED
                    await self._finish_future
                    if not self._detached:
                        self.stream.set_close_callback(None)
            if self.is_client and self._disconnect_on_finish:
                self.close()
            return not (self._detached or self.stream.closed())
        finally:
            if owes_close_notice:
                _notify_connection_close(delegate)
            if not parked:
                self._close_callback = None

    async def _read_final_head(
        self, delegate: HTTPMessageDelegate
    ) -> _ParsedHead | None:
        """Read heads up to the final one, handing each to ``delegate``.

        Interim (1xx) responses come first on a client, at most
        ``_MAX_INTERIM_RESPONSES`` of them; none has a body.  ``None`` comes
        out when the connection ended instead (an idle timeout, or a head
        over ``max_header_size``).
        """
        interim_responses = 0
        while True:
            try:
                data = await self._start_reading_head()
            except iostream.UnsatisfiableReadError as e:
                # The server's head reads leave this to the caller; say and
                # do what the stream would have done.
                gen_log.info("Unsatisfiable read, closing connection: %s", e)
                self.stream.close(exc_info=e)
                return None
            if data is None:
                return None  # an idle connection timed out
            head = self._parse_head(data)
            interim = _is_interim_response(head.start_line)
            if interim:
                interim_responses += 1
                if interim_responses > _MAX_INTERIM_RESPONSES:
                    raise HTTPInputError("Too many 1xx responses")
            self._adopt_head(head)
            with _delegate_errors_logged:
                flow_control = delegate.headers_received(head.start_line, head.headers)
                if flow_control is not None:
                    await flow_control
            if self._detached or not interim:
                return head

    def _adopt_head(self, head: _ParsedHead) -> None:
        """Record what a received head decided for this exchange."""
        if isinstance(head.start_line, RequestStartLine):
            self._request_start_line = head.start_line
        self._disconnect_on_finish = not head.keep_alive

    def _end_parked_exchange(self) -> bool:
        """Finish what `_read_request` left pending; true to go on serving."""
        self._close_callback = None
        if self._detached:
            return False
        self.stream.set_close_callback(None)
        return not self.stream.closed()

    def _start_reading_head(self) -> Awaitable[bytes | None]:
        """Start reading the next head; it comes out as ``None`` on timeout."""
        if self._early_head is not None:
            # Already over (see HTTP1ServerConnection._await_next_head); a
            # timeout there shows as the stream's closing.
            early, self._early_head = self._early_head, None
            return early
        future: Awaitable[bytes]
        if self.is_client:
            # A head over max_header_size makes the stream log "Unsatisfiable
            # read" and close (as in Tornado), rather than being buffered.
            future = self.stream.read_until_regex(
                HEAD_END_RE, max_bytes=self.params.max_header_size
            )
        else:
            future = _read_request_head(self.stream, self.params)
        if _is_done(future):
            return self._after_other_connections(future)
        if self.params.header_timeout is None:
            return future
        return self._within_header_timeout(future)

    async def _after_other_connections(self, future: Awaitable[bytes]) -> bytes:
        """Let other connections run before serving already received data.

        Otherwise a client pipelining many requests would monopolize the loop.
        """
        await asyncio.sleep(0)
        return await future

    async def _within_header_timeout(self, future: Awaitable[bytes]) -> bytes | None:
        assert self.params.header_timeout is not None
        timer = self._head_timer or self._new_head_timer(self.params.header_timeout)
        timer.start()
        try:
            return await future
        except iostream.StreamClosedError:
            if timer.expired:
                return None
            raise
        finally:
            timer.stop()
            if timer is not self._head_timer:
                timer.cancel()

    def _new_head_timer(self, timeout: float) -> _WaitTimer:
        """A timer closing the stream when a head takes too long (silently)."""
        return _WaitTimer(self.stream.io_loop, timeout, self.stream.close)

    def _parse_head(self, data: bytes) -> _ParsedHead:
        """Parse a head and decide its body framing and keep-alive status.

        Raises `.HTTPInputError` for a malformed head.
        """
        start_line: _StartLine
        if self.is_client:
            start_line, headers = parse_response_head(data)
            # A connection that wrote no request (one reading a response off
            # a raw stream) treats it as the answer to a GET.
            request = self._request_start_line
            framing = response_body_framing(
                headers, start_line.code, request.method if request else None
            )
        else:
            start_line, headers = parse_request_head(data)
            check_request_host(start_line, headers)
            framing = request_body_framing(headers)
        keep_alive = not self.no_keep_alive and keep_alive_requested(
            start_line, headers
        )
        return _ParsedHead(start_line, headers, framing, keep_alive)

    def _continue_if_expected(self, head: _ParsedHead) -> None:
        """Tell a client waiting for ``100 Continue`` to send its body."""
        assert isinstance(head.start_line, RequestStartLine)
        if not self._response_started and expects_continue(
            head.start_line, head.headers
        ):
            self.stream.write(CONTINUE_RESPONSE)

    async def _read_body_in_time(
        self, framing: Framing, delegate: HTTPMessageDelegate
    ) -> bool:
        """Read the body within the body timeout; false if it ran out."""
        if self._body_timeout is None:
            await self._read_body(framing, delegate)
            return True

        def on_timeout() -> None:
            gen_log.info("Timeout reading body from %s", self.context)
            self.stream.close()

        timer = _WaitTimer(self.stream.io_loop, self._body_timeout, on_timeout)
        timer.start()
        try:
            await self._read_body(framing, delegate)
        except iostream.StreamClosedError:
            if timer.expired:
                return False
            raise
        finally:
            timer.cancel()
        return True

    async def _read_body(self, framing: Framing, delegate: HTTPMessageDelegate) -> None:
        if framing.kind is BodyKind.LENGTH:
            await self._read_fixed_body(framing.length, delegate)
        elif framing.kind is BodyKind.CHUNKED:
            await self._read_chunked_body(delegate)
        else:
            await self._read_body_until_close(delegate)

    async def _deliver(self, delegate: HTTPMessageDelegate, chunk: bytes) -> None:
        """Pass body data on, unless a server already finished its response."""
        if chunk and (self.is_client or not self._write_finished):
            with _delegate_errors_logged:
                flow_control = delegate.data_received(chunk)
                if flow_control is not None:
                    await flow_control

    async def _read_fixed_body(
        self, remaining: int, delegate: HTTPMessageDelegate
    ) -> None:
        chunk_size = self.params.chunk_size
        while remaining > 0:
            chunk = await self.stream.read_bytes(
                min(chunk_size, remaining), partial=True
            )
            remaining -= len(chunk)
            await self._deliver(delegate, chunk)

    async def _read_chunked_body(self, delegate: HTTPMessageDelegate) -> None:
        """Decode a chunked body, delivering it in pieces of up to ``chunk_size``.

        Small chunks are merged.  What is merged goes out once the next read
        would wait for the network, so a slowly streamed body still arrives
        as it comes.
        """
        decoder = ChunkedDecoder(self._max_body_size)
        merged = _MergedBody(self.params.chunk_size)
        work = 0
        while not decoder.finished:
            read = self._start_chunked_read(decoder)
            if merged.pending and not _is_done(read):
                await _deliver_before(self._deliver(delegate, merged.take()), read)
            data = await read
            for piece in decoder.feed(data):
                for full in merged.add(piece):
                    await self._deliver(delegate, full)
            work += len(data) + _CHUNKED_WORK_PER_READ
            if work >= _CHUNKED_WORK_PER_TURN:
                work = 0
                await asyncio.sleep(0)  # let other connections run
        if merged.pending:
            await self._deliver(delegate, merged.take())

    def _start_chunked_read(self, decoder: ChunkedDecoder) -> Awaitable[bytes]:
        hint = decoder.next_read()
        if hint.delimiter is None:
            size = min(hint.max_bytes, self.params.chunk_size)
            return self.stream.read_bytes(size, partial=True)
        return self.stream.read_until(hint.delimiter, hint.max_bytes)

    async def _read_body_until_close(self, delegate: HTTPMessageDelegate) -> None:
        received = 0
        while True:
            try:
                chunk = await self.stream.read_bytes(
                    self.params.chunk_size, partial=True
                )
            except iostream.StreamClosedError:
                return  # the end of the body
            received += len(chunk)
            check_body_size(received, self._max_body_size, "until close")
            await self._deliver(delegate, chunk)

    async def _reject_input(self, error: HTTPInputError) -> None:
        """Log bad input, answer it (on a server) and close the connection."""
        gen_log.info("Malformed HTTP message from %s: %s", self.context, error)
        if not self.is_client and not self._response_started:
            try:
                await self.stream.write(BAD_REQUEST_RESPONSE)
            except iostream.StreamClosedError:
                pass
        self.close()

    # -- connection state ---------------------------------------------------------

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the connection closes before the exchange ends.

        Replaces any previous callback; ``None`` removes it.  Useful on a
        server to notice a client that leaves while its response is being
        prepared.
        """
        self._close_callback = callback

    def _on_connection_close(self) -> None:
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            callback()
        self._end_exchange()

    def close(self) -> None:
        """Close the connection's stream."""
        if not self._detached:
            self.stream.close()
        self._close_callback = None
        self._end_exchange()

    def detach(self) -> iostream.IOStream:
        """Take the stream away from HTTP, for another protocol to use.

        Typically called in response to an ``Upgrade`` request, after the
        ``101`` response was written (e.g. for WebSockets).  The connection
        no longer reads, writes or closes the stream; it is returned and
        `stream` becomes ``None``.
        """
        stream = self.stream
        self._detached = True
        self._close_callback = None
        self.stream = None  # type: ignore[assignment]
        self._end_exchange()
        return stream

    def set_body_timeout(self, timeout: float) -> None:
        """Change the body timeout of this exchange (seconds)."""
        self._body_timeout = timeout

    def set_max_body_size(self, max_body_size: int) -> None:
        """Change the body size limit of this exchange (bytes).

        Takes effect for a body not yet started, e.g. when called from
        ``headers_received``.
        """
        self._max_body_size = max_body_size

    # -- writing ------------------------------------------------------------------

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        """Write the start line and headers, and optionally a first body chunk.

        A client passes a `.RequestStartLine`, a server a
        `.ResponseStartLine`.  The body framing (``Content-Length`` or
        chunked) and the ``Connection`` header are filled in as needed.
        Returns a future resolved once the data is written; it fails with
        `.StreamClosedError` if the connection is closed.
        """
        if self.is_client:
            assert isinstance(start_line, RequestStartLine)
            self._request_start_line = start_line
            framing = plan_request_body(start_line, headers)
            head = format_request_head(start_line, headers, framing)
        else:
            assert isinstance(start_line, ResponseStartLine)
            request = self._request_start_line
            assert request is not None
            if not self._disconnect_on_finish and type(chunk) is bytes:
                data = format_plain_response(request, start_line, headers, chunk)
                if data is not None:  # the whole body, of its declared length
                    self._response_started = True
                    self._omit_body = False
                    self._encoder = _BODY_COMPLETE
                    return self._write_to_stream(data)
            framing = plan_response_body(request, start_line.code, headers)
            self._disconnect_on_finish = response_closes_connection(
                request, framing, headers, self._disconnect_on_finish
            )
            connection = connection_header(request, self._disconnect_on_finish)
            head = format_response_head(start_line, headers, framing, connection)
            # The application may answer HEAD as it answers GET: the headers
            # describe the body that is not sent.
            self._omit_body = request.method == "HEAD"
        self._response_started = True
        self._encoder = BodyEncoder(framing)
        if chunk:
            head += self._encode(chunk)
        return self._write_to_stream(head)

    def _encode(self, chunk: bytes) -> bytes:
        """Frame a body chunk; close the stream if it breaks the framing."""
        if self._encoder is None:
            # A server application writing its own response head and body
            # (the interface older than write_headers) sends raw bytes.
            assert not self.is_client, "write_headers() must be called first"
            self._response_started = True
            return chunk
        if self._omit_body:
            return b""
        try:
            return self._encoder.encode(chunk)
        except HTTPOutputError:
            self._close_stream()
            raise

    def _write_to_stream(self, data: bytes) -> Future[None]:
        if self._detached or self.stream.closed():
            future: Future[None] = Future()
            future.set_exception(iostream.StreamClosedError())
            future.exception()  # nobody needs to look at it
            return future
        self._pending_write = self.stream.write(data)
        return self._pending_write

    def write(self, chunk: bytes) -> Future[None]:
        """Write a piece of the body; returns a future resolved once written.

        Raises `.HTTPOutputError` (closing the connection) if this exceeds
        the declared ``Content-Length``.
        """
        return self._write_to_stream(self._encode(chunk))

    def finish(self) -> None:
        """Mark the end of the message being written.

        Raises `.HTTPOutputError` (closing the connection) if fewer bytes
        than the declared ``Content-Length`` were written.
        """
        try:
            ending = self._finish_body()
        except HTTPOutputError:
            self._close_stream()
            raise
        if self._detached:
            return
        if ending and not self.stream.closed():
            self._pending_write = self.stream.write(ending)
        self._write_finished = True
        if not self.is_client and not self._read_finished:
            # The rest of the request is discarded; the connection can't be
            # reused since the next request's start is unknown.
            self._disconnect_on_finish = True
        if self.is_client:
            # Push out what remains without waiting for more data (Nagle).
            # Server connections run without Nagle all along (see
            # HTTP1ServerConnection.start_serving).
            self.stream.set_nodelay(True)
        pending = self._pending_write
        if pending is None or pending.done():
            self._finish_request()
        else:
            pending.add_done_callback(self._finish_request)

    def _finish_body(self) -> bytes:
        """The bytes ending the body; nothing for a raw (legacy) response."""
        if self._encoder is None:
            assert not self.is_client, "write_headers() must be called first"
            return b""
        return self._encoder.finish()

    def _close_stream(self) -> None:
        if not self._detached:
            self.stream.close()

    def _finish_request(self, _: object = None) -> None:
        if self._detached:
            return
        if not self.is_client and self._disconnect_on_finish:
            self.close()
            return
        if self.is_client:
            self.stream.set_nodelay(False)  # back to the stream's default
        self._end_exchange()

    def _end_exchange(self) -> None:
        """The exchange is over: wake whoever waits for that."""
        _resolve(self._finish_future)
        server, self._parked_in = self._parked_in, None
        if server is not None:
            # Called directly rather than as a done callback of the future,
            # which would hold a bound method and a context per parked request.
            self._finish_future.get_loop().call_soon(server._resume, self)


class _WaitTimer:
    """Calls ``on_expiry`` when a wait lasts more than ``timeout`` seconds.

    `start` and `stop` bracket each wait.  One timer can serve many waits,
    such as the heads of a keep-alive connection: when it fires while no
    wait is under way, or before the current wait's deadline, it re-arms
    itself rather than being replaced for every request, which would cost
    more than parsing a small request.
    """

    __slots__ = (
        "expired",
        "_io_loop",
        "_timeout",
        "_on_expiry",
        "_deadline",
        "_timer",
    )

    def __init__(
        self, io_loop: IOLoop, timeout: float, on_expiry: Callable[[], None]
    ) -> None:
        #: Whether a wait ran out of time.
        self.expired = False
        self._io_loop = io_loop
        self._timeout = timeout
        self._on_expiry = on_expiry
        self._deadline: float | None = None
        self._timer: object | None = None

    def start(self) -> None:
        """A wait starts now."""
        self._deadline = self._io_loop.time() + self._timeout
        if self._timer is None:
            self._arm(self._deadline)

    def stop(self) -> None:
        """The wait is over."""
        self._deadline = None

    def cancel(self) -> None:
        """Remove the timer for good."""
        if self._timer is not None:
            self._io_loop.remove_timeout(self._timer)
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        if self._deadline is None:
            return  # between waits; the next start() re-arms
        if self._io_loop.time() < self._deadline:
            self._arm(self._deadline)
            return
        self.expired = True
        try:
            self._on_expiry()
        except Exception:
            self._io_loop.handle_callback_exception(self._on_expiry)

    def _arm(self, deadline: float) -> None:
        # On the asyncio loop directly: the wrappers of IOLoop.call_at would
        # stay alive as long as each parked connection waits.  _fire logs
        # errors itself, as the IOLoop would.
        loop = self._io_loop
        delay = max(0.0, deadline - loop.time())
        asyncio_loop: asyncio.AbstractEventLoop = cast(Any, loop).asyncio_loop
        self._timer = asyncio_loop.call_later(delay, self._fire)


def _read_request_head(
    stream: iostream.IOStream, params: HTTP1ConnectionParameters
) -> Future[bytes]:
    """Start reading a request's head on a server's ``stream``.

    Data not yet buffered is left for the loop to report (the next request
    rarely follows a response at once).  A head over ``max_header_size``
    fails the read with `.UnsatisfiableReadError` and leaves closing the
    stream to the caller (see ``_read_final_head``).
    """
    head = stream._read_until_regex_within(HEAD_END_RE, params.max_header_size)
    return cast("Future[bytes]", head)


def _log_unexpected_error(future: Future[Any]) -> None:
    """Log what escaped a connection's request loop, as the IOLoop would.

    A plain done callback (rather than ``IOLoop.add_future``) costs no
    wrapper objects per connection.
    """
    if not future.cancelled() and future.exception() is not None:
        app_log.error("Exception in callback %r", future, exc_info=future.exception())


def _resolve(future: Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _is_interim_response(start_line: _StartLine) -> bool:
    """Whether this is a 1xx response, which another response follows."""
    return isinstance(start_line, ResponseStartLine) and 100 <= start_line.code < 200


def _is_done(awaitable: Awaitable[Any]) -> bool:
    return isinstance(awaitable, Future) and awaitable.done()


def _notify_connection_close(delegate: HTTPMessageDelegate) -> None:
    """Tell ``delegate`` its message ended early; its own errors are logged."""
    try:
        delegate.on_connection_close()
    except Exception:
        app_log.error("Uncaught exception", exc_info=True)


async def _deliver_before(delivery: Awaitable[None], read: Awaitable[bytes]) -> None:
    """Await ``delivery`` while ``read`` is pending.

    Should the delivery fail, nobody awaits the read any more: its outcome
    is collected so that asyncio does not report it as never retrieved.
    """
    try:
        await delivery
    except BaseException:
        if isinstance(read, Future):
            read.add_done_callback(_collect_outcome)
        raise


def _collect_outcome(future: Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class _MergedBody:
    """Collects small body pieces into deliveries of at most ``limit`` bytes."""

    __slots__ = ("_limit", "_parts", "_size")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._size = 0

    @property
    def pending(self) -> bool:
        """Whether bytes wait to be delivered."""
        return self._size > 0

    def add(self, piece: bytes) -> list[bytes]:
        """Add ``piece``; return the deliveries of exactly ``limit`` bytes now full."""
        self._parts.append(piece)
        self._size += len(piece)
        if self._size < self._limit:
            return []
        data = b"".join(self._parts)
        cut = len(data) - len(data) % self._limit
        full = [data[i : i + self._limit] for i in range(0, cut, self._limit)]
        self._parts = [data[cut:]] if cut < len(data) else []
        self._size = len(data) - cut
        return full

    def take(self) -> bytes:
        """Everything collected so far (at most ``limit`` bytes)."""
        data = b"".join(self._parts)
        self._parts = []
        self._size = 0
        return data


class _GzipMessageDelegate(HTTPMessageDelegate):
    """Decompresses a gzip-encoded body before passing it to another delegate.

    The ``Content-Encoding`` header is removed (and reported as
    ``X-Consumed-Content-Encoding``) so the inner delegate sees the decoded
    message.  Output is produced in pieces of at most ``chunk_size`` bytes
    and its total is bounded by ``max_body_size()`` (a function, since the
    limit may change once the headers are seen), so a small "gzip bomb"
    cannot exhaust memory.  Corrupt or oversized data raises
    `.HTTPInputError`.
    """

    __slots__ = (
        "_delegate",
        "_chunk_size",
        "_max_body_size",
        "_decompressor",
        "_decompressed_size",
    )

    def __init__(
        self,
        delegate: HTTPMessageDelegate,
        chunk_size: int,
        max_body_size: Callable[[], int],
    ) -> None:
        self._delegate = delegate
        self._chunk_size = chunk_size
        self._max_body_size = max_body_size
        self._decompressor: GzipDecompressor | None = None
        self._decompressed_size = 0

    def headers_received(
        self, start_line: _StartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        """Note whether the body is gzipped, then pass the headers on."""
        if headers.get("Content-Encoding", "").lower() == "gzip":
            self._decompressor = GzipDecompressor()
            headers.add("X-Consumed-Content-Encoding", headers["Content-Encoding"])
            del headers["Content-Encoding"]
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Decompress ``chunk`` and pass the result on, piece by piece."""
        if self._decompressor is None:
            return self._delegate.data_received(chunk)
        return self._decode(chunk)

    async def _decode(self, chunk: bytes) -> None:
        assert self._decompressor is not None
        pending = chunk
        while pending:
            # Each call makes progress: it fills its output limit or uses up
            # its input (possibly with no output, e.g. at a member boundary).
            piece = self._decompress(pending)
            pending = self._decompressor.unconsumed_tail
            if piece:
                await self._pass_on(piece)

    def _decompress(self, data: bytes) -> bytes:
        assert self._decompressor is not None
        try:
            return self._count(self._decompressor.decompress(data, self._chunk_size))
        except zlib.error as e:
            raise HTTPInputError(f"invalid gzip data: {e}") from e

    def _count(self, piece: bytes) -> bytes:
        self._decompressed_size += len(piece)
        check_body_size(self._decompressed_size, self._max_body_size(), "decompressed")
        return piece

    async def _pass_on(self, piece: bytes) -> None:
        flow_control = self._delegate.data_received(piece)
        if flow_control is not None:
            await flow_control

    def finish(self) -> None:
        """Check that the compressed data was complete, then finish."""
        if self._decompressor is not None:
            try:
                self._decompressor.flush()  # only checks: all output came out
            except zlib.error as e:
                raise HTTPInputError(f"invalid gzip data: {e}") from e
        self._delegate.finish()

    def on_connection_close(self) -> None:
        """Pass the early close on."""
        self._delegate.on_connection_close()


class HTTP1ServerConnection:
    """The server side of an HTTP/1.x connection, serving request after request."""

    def __init__(
        self,
        stream: iostream.IOStream,
        params: HTTP1ConnectionParameters | None = None,
        context: object | None = None,
    ) -> None:
        #: The connection's stream.
        self.stream = stream
        #: The `HTTP1ConnectionParameters` used for each request.
        self.params = params if params is not None else HTTP1ConnectionParameters()
        #: The ``context`` passed to each request's `HTTP1Connection`.
        self.context = context
        self._delegate: HTTPServerConnectionDelegate | None = None
        self._head_timer: _WaitTimer | None = None
        # The task serving requests (asyncio keeps only weak references).
        # While a response is awaited no task runs: the pending
        # HTTP1Connection calls _resume once the exchange ends.
        self._task: Future[None] | None = None
        self._serving = False
        # Created when close() must wait for the end of serving.
        self._serving_ended: Future[None] | None = None

    async def close(self) -> None:
        """Close the connection and wait for its request loop to end."""
        self.stream.close()
        if not self._serving:
            return
        if self._serving_ended is None:
            self._serving_ended = Future()
        await self._serving_ended

    def start_serving(self, delegate: HTTPServerConnectionDelegate) -> None:
        """Start reading requests, handing each one to ``delegate``.

        ``delegate`` is an `.HTTPServerConnectionDelegate`; its
        ``start_request`` is called for each request and its ``on_close``
        once the connection is closed.
        """
        assert isinstance(delegate, HTTPServerConnectionDelegate)
        # Responses go out as soon as they are written rather than waiting
        # for acknowledgements (Nagle's algorithm), which would delay the
        # end of each response.  Set once: toggling it per request costs a
        # system call each time.
        self.stream.set_nodelay(True)
        self._delegate = delegate
        self._serving = True
        self._serve_in_task()

    def _serve_in_task(self, early_head: Future[bytes] | None = None) -> None:
        self._task = asyncio.ensure_future(self._serve(early_head))
        self._task.add_done_callback(_log_unexpected_error)

    async def _serve(self, early_head: Future[bytes] | None = None) -> None:
        """Serve requests until the connection ends or a response is pending.

        In the latter case the task ends; `_resume` starts a new one once the
        response is written.
        """
        delegate = self._delegate
        assert delegate is not None
        still_serving = False
        try:
            while True:
                conn = HTTP1Connection(self.stream, False, self.params, self.context)
                if self._head_timer is None and self.params.header_timeout is not None:
                    self._head_timer = conn._new_head_timer(self.params.header_timeout)
                conn._serve_with(early_head, self._head_timer)
                early_head = None
                request_delegate = delegate.start_request(self, conn)
                try:
                    keep_serving = await conn._read_request(request_delegate, self)
                except (iostream.StreamClosedError, asyncio.CancelledError):
                    return
                except Exception:
                    gen_log.error("Uncaught exception", exc_info=True)
                    conn.close()
                    return
                if keep_serving is _PARKED:
                    still_serving = True
                    self._task = None  # ends now; nothing to keep alive
                    if self._head_timer is not None:
                        # Not needed until the next head; re-armed then.
                        self._head_timer.cancel()
                    return
                if not keep_serving:
                    return
        finally:
            if not still_serving:
                self._stop_serving()

    def _resume(self, conn: HTTP1Connection) -> None:
        if conn._end_parked_exchange():
            self._await_next_head()
        else:
            self._stop_serving()

    def _await_next_head(self) -> None:
        """Read the next head with no task, which only starts once it is in.

        After a parked exchange (many of which may end together, as when a
        long-polling event is set) this spares each connection a task and
        its coroutines until the client sends another request.
        """
        try:
            head = _read_request_head(self.stream, self.params)
        except iostream.StreamClosedError:
            self._stop_serving()
            return
        if head.done():
            self._serve_in_task(head)
            return
        if self._head_timer is not None:
            self._head_timer.start()
        head.add_done_callback(self._head_arrived)

    def _head_arrived(self, head: Future[bytes]) -> None:
        if self._head_timer is not None:
            self._head_timer.stop()
        self._serve_in_task(head)

    def _stop_serving(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        try:
            assert self._delegate is not None
            self._delegate.on_close(self)
        finally:
            self._serving = False
            if self._serving_ended is not None:
                _resolve(self._serving_ended)


# -- serving from an asyncio transport ------------------------------------------


class _Phase:
    """Where a transport-served connection is in its current exchange.

    Plain string constants compared by identity, not an `enum.Enum`: the
    phase is looked at several times per request, and a member lookup on an
    Enum class costs several times that on an ordinary class.
    """

    #: Waiting for (the rest of) a request head.
    HEAD = "head"
    #: The head went to the delegate; the body framing is checked next.
    HEADERS_DELIVERED = "headers delivered"
    #: Passing the request body on.
    BODY = "body"
    #: The request was read; the application's response is pending.
    ANSWERING = "answering"
    #: Another protocol took the connection over (`HTTP1ServerProtocol.detach`).
    DETACHED = "detached"
    #: The connection is closed.
    CLOSED = "closed"


_READING_PHASES = (_Phase.HEAD, _Phase.HEADERS_DELIVERED, _Phase.BODY)


class HTTP1ServerProtocol(asyncio.Protocol):
    """Serves HTTP/1.x on one connection, fed by an asyncio transport.

    Received bytes go straight into the wire-format functions from
    `data_received`; responses go out with ``transport.write``.  A delegate
    returning ``None`` is driven on the spot; one returning an awaitable
    parks the reading of the connection until the awaitable is done (the
    transport stops reading meanwhile).  The transport's write buffer limits
    replace a stream's accounting: while it has paused writing, write
    futures wait and no further request is read.

    ``server`` is the `.HTTPServerConnectionDelegate` (it hears
    ``start_request(protocol, exchange)`` per request and ``on_close(protocol)``
    once the connection is gone or handed over).  ``connection_started`` is
    called with the protocol and its transport once connected, and returns
    the connection's context.  ``max_buffer_size`` bounds a body when
    ``params.max_body_size`` does not, as a stream's would.  ``http2``, when
    given, takes over HTTP/2 connections: those whose TLS handshake chose
    ``h2`` by ALPN, and cleartext ones opening with the HTTP/2 connection
    preface (h2c with prior knowledge).  It is called with the transport, the
    bytes read so far and the context.
    """

    __slots__ = (
        "server",
        "params",
        "context",
        "_connection_started",
        "_max_buffer_size",
        "_http2",
        "_transport",
        "_buffer",
        "_scanned",
        "_phase",
        "_exchange",
        "_delegate",
        "_blocked_on",
        "_reading_paused",
        "_writing_paused",
        "_drain_waiters",
        "_done_write",
        "_head_timer",
        "_body",
        "_stream",
        "_closed",
        "_processing",
        "__weakref__",
    )

    def __init__(
        self,
        server: HTTPServerConnectionDelegate,
        params: HTTP1ConnectionParameters,
        connection_started: Callable[
            [HTTP1ServerProtocol, asyncio.BaseTransport], object
        ],
        max_buffer_size: int | None = None,
        http2: Callable[[asyncio.BaseTransport, bytes, object], None] | None = None,
    ) -> None:
        #: The `.HTTPServerConnectionDelegate` receiving the requests.
        self.server = server
        #: The `HTTP1ConnectionParameters` in effect.
        self.params = params
        #: The connection's context (made once the transport is known).
        self.context: object = None
        self._connection_started: (
            Callable[[HTTP1ServerProtocol, asyncio.BaseTransport], object] | None
        ) = connection_started
        self._max_buffer_size = max_buffer_size or iostream._DEFAULT_MAX_BUFFER_SIZE
        self._http2 = http2
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        # How much of the buffer was searched for a head's end already.
        self._scanned = 0
        self._phase = _Phase.HEAD
        self._exchange: _ServerExchange | None = None
        # The delegate hearing the current exchange's request, until it has
        # heard all of it (or of its end).
        self._delegate: HTTPMessageDelegate | None = None
        # A delegate's flow control (or a turn given to other connections).
        self._blocked_on: Future[Any] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiters: list[Future[None]] | None = None
        self._done_write: Future[None] | None = None
        self._head_timer: _WaitTimer | None = None
        self._body: _BodyReader | None = None
        self._stream: iostream._TransportStream | None = None
        self._closed: Future[None] | None = None
        # Whether _process is running (it syncs reading when it returns).
        self._processing = False

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start serving: the head timer runs from now."""
        self._transport = cast(asyncio.Transport, transport)
        connection_started, self._connection_started = self._connection_started, None
        assert connection_started is not None
        self.context = connection_started(self, transport)
        _set_nodelay(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if self._http2 is not None and ssl_object is not None:
            if ssl_object.selected_alpn_protocol() == "h2":
                self._hand_over_to_http2()
                return
            self._http2 = None  # no preface to look for over TLS
        if self.params.header_timeout is not None:
            self._head_timer = _WaitTimer(
                IOLoop.current(), self.params.header_timeout, self.close
            )
            self._head_timer.start()

    def data_received(self, data: bytes) -> None:
        """Feed received bytes to the request being read."""
        if self._phase is _Phase.CLOSED:
            return
        self._buffer += data
        self._process()

    def eof_received(self) -> bool | None:
        """The client stopped sending: the connection ends, as a stream's does."""
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: tell the exchange, the stream and the server."""
        if self._phase is _Phase.DETACHED:
            return
        was_reading = self._phase in _READING_PHASES
        self._phase = _Phase.CLOSED
        self._stop_timers()
        exchange, self._exchange = self._exchange, None
        delegate, self._delegate = self._delegate, None
        if was_reading and delegate is not None:
            _notify_connection_close(delegate)
        if exchange is not None:
            exchange._connection_lost(was_reading)
        self._fail_drain_waiters()
        if self._stream is not None:
            self._stream.close(exc_info=exc or False)
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        self.server.on_close(self)

    def pause_writing(self) -> None:
        """The transport's buffer is full: hold writes and new requests."""
        self._writing_paused = True
        if self._stream is not None:
            self._stream.pause_writing()

    def resume_writing(self) -> None:
        """The transport drained: release the writers, read on."""
        self._writing_paused = False
        waiters, self._drain_waiters = self._drain_waiters or (), None
        for waiter in waiters:
            _resolve(waiter)
        if self._stream is not None:
            self._stream.resume_writing()
        if self._phase is _Phase.HEAD and self._buffer:
            self._process()
        else:
            self._sync_reading()

    # -- the connection -----------------------------------------------------------

    @property
    def stream(self) -> iostream.IOStream:
        """An `.IOStream` over this connection, made on first use."""
        if self._stream is None:
            self._stream = iostream._TransportStream(
                self._transport, self._max_buffer_size, self.params.chunk_size
            )
            if self._phase is _Phase.CLOSED:
                self._stream.close()
        return self._stream

    def close(self, abort: bool = False) -> None:
        """Close the connection.

        What the transport buffers is still sent, unless ``abort`` is true
        or the client stopped reading.
        """
        transport = self._transport
        if transport is None or self._phase in (_Phase.CLOSED, _Phase.DETACHED):
            return
        if abort or self._writing_paused:
            transport.abort()  # the client reads nothing: no point waiting
        else:
            transport.close()

    def wait_closed(self) -> Future[None]:
        """A future resolved once the connection is lost."""
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
            if self._phase in (_Phase.CLOSED, _Phase.DETACHED):
                self._closed.set_result(None)
        return self._closed

    def detach(self) -> iostream.IOStream:
        """Hand the connection to a stream (with the bytes read ahead)."""
        stream = cast(iostream._TransportStream, self.stream)
        self._phase = _Phase.DETACHED
        self._stop_timers()
        self._exchange = None
        self._delegate = None
        read_ahead, self._buffer = bytes(self._buffer), bytearray()
        if self._reading_paused:
            assert self._transport is not None
            self._transport.resume_reading()
            self._reading_paused = False
        stream.feed_from_transport(read_ahead, self._writing_paused)
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        self.server.on_close(self)
        return stream

    # -- reading ------------------------------------------------------------------

    def _process(self) -> None:
        """Go through the buffered bytes as far as the current phase allows."""
        processing, self._processing = self._processing, True
        try:
            while self._blocked_on is None:
                phase = self._phase
                if phase is _Phase.HEAD:
                    if not self._buffer or self._writing_paused:
                        break
                    if not self._take_head():
                        break
                elif phase is _Phase.HEADERS_DELIVERED:
                    self._start_body()
                elif phase is _Phase.BODY:
                    assert self._body is not None
                    if not self._body.take(self):
                        break
                else:
                    break
        except HTTPInputError as e:
            self._reject(e)
        except _QuietException:
            self.close()  # a delegate failed; that was logged
        finally:
            self._processing = processing
        self._sync_reading()

    def _take_head(self) -> bool:
        """Parse a complete head from the buffer; false if it is incomplete."""
        buffer = self._buffer
        if self._http2 is not None and not self._check_preface():
            return False
        scanned = self._scanned
        match = HEAD_END_RE.search(buffer, scanned - 2 if scanned > 2 else 0)
        max_header_size = self.params.max_header_size
        end = match.end() if match is not None else None
        if end is None or end > max_header_size:
            if end is not None or len(buffer) > max_header_size:
                self._head_too_large()
            else:
                self._scanned = len(buffer)
            return False
        if end == len(buffer):  # the usual case: one copy, not two
            data = bytes(buffer)
            buffer.clear()
        else:
            data = bytes(buffer[:end])
            del buffer[:end]
        self._scanned = 0
        if self._head_timer is not None:
            self._head_timer.stop()
        self._start_exchange(data)
        return True

    def _check_preface(self) -> bool:
        """Give an HTTP/2 connection away; false while it could still be one."""
        buffer = self._buffer
        prefix = bytes(buffer[: len(_H2_PREFACE)])
        if not _H2_PREFACE.startswith(prefix):
            self._http2 = None  # HTTP/1 from now on
            return True
        if len(prefix) == len(_H2_PREFACE):
            self._hand_over_to_http2()
        return False

    def _hand_over_to_http2(self) -> None:
        http2, self._http2 = self._http2, None
        assert http2 is not None and self._transport is not None
        self._phase = _Phase.DETACHED
        self._stop_timers()
        data, self._buffer = bytes(self._buffer), bytearray()
        self.server.on_close(self)
        http2(self._transport, data, self.context)

    def _head_too_large(self) -> None:
        error = iostream.UnsatisfiableReadError(
            f"pattern {HEAD_END_RE.pattern!r} not found within "
            f"{self.params.max_header_size} bytes"
        )
        gen_log.info("Unsatisfiable read, closing connection: %s", error)
        self._buffer.clear()
        self.close()

    def _start_exchange(self, data: bytes) -> None:
        exchange = _ServerExchange(self)
        self._exchange = exchange
        delegate = self.server.start_request(self, exchange)
        if self.params.decompress:
            delegate = _GzipMessageDelegate(
                delegate, self.params.chunk_size, exchange._body_size_limit
            )
        self._delegate = delegate
        start_line, headers, framing, keep_alive, expects = read_request_head(data)
        exchange._head_read(
            start_line, framing, self.params.no_keep_alive or not keep_alive, expects
        )
        self._phase = _Phase.HEADERS_DELIVERED
        try:  # as with _delegate_errors_logged
            flow_control = delegate.headers_received(start_line, headers)
            if flow_control is not None:
                self._block_on(flow_control)
        except (HTTPInputError, _QuietException):
            raise
        except Exception as e:
            raise _logged_as_uncaught(e) from e

    def _start_body(self) -> None:
        """Apply the size limit, then read the body (or finish the message)."""
        exchange = self._exchange
        assert exchange is not None
        if exchange._framing is not NO_BODY:
            check_content_length(exchange._framing, exchange._max_body_size)
        if exchange._expects_continue and not exchange._response_started:
            self._write(CONTINUE_RESPONSE)
        if exchange._framing is NO_BODY:
            self._message_read(exchange)
            return
        self._body = _BodyReader(self, exchange)
        self._phase = _Phase.BODY

    def _message_read(self, exchange: _ServerExchange) -> None:
        """The whole request is in: the delegate hears it, the answer follows."""
        body, self._body = self._body, None
        if body is not None:
            body.stop()
        if exchange._request_read():
            self._phase = _Phase.ANSWERING
            self._exchange_done(exchange)
            return
        delegate = self._delegate
        assert delegate is not None
        self._phase = _Phase.ANSWERING
        try:  # as with _delegate_errors_logged
            delegate.finish()
        except HTTPInputError:
            if self._exchange is exchange:
                self._phase = _Phase.BODY  # the delegate still owes a notice
            raise
        except _QuietException:
            raise
        except Exception as e:
            raise _logged_as_uncaught(e) from e
        # Nothing more for the delegate, which may hold much (the request).
        if self._exchange is exchange:
            self._delegate = None
            if self._head_timer is not None:
                # A parked response: the head timer is not needed until the
                # next head, when start() re-arms it.
                self._head_timer.cancel()

    def _deliver(self, exchange: _ServerExchange, chunk: bytes) -> None:
        """Pass body data on, unless the response is already over."""
        if chunk and not exchange._write_finished:
            assert self._delegate is not None
            with _delegate_errors_logged:
                self._block_on(self._delegate.data_received(chunk))

    def _block_on(self, flow_control: Awaitable[None] | None) -> None:
        """Park reading until a delegate's ``flow_control`` is done."""
        if flow_control is None:
            return
        future = asyncio.ensure_future(flow_control)
        self._blocked_on = future
        future.add_done_callback(self._unblocked)

    def _give_turn(self) -> None:
        """Let other connections run before going on with buffered data.

        This may be called from a handler's task (the end of its response):
        the next request must not run in that handler's context, so it gets
        a fresh one, as it would in a task of its own.
        """
        future: Future[None] = asyncio.get_running_loop().create_future()
        self._blocked_on = future
        future.add_done_callback(self._unblocked, context=contextvars.Context())
        future.get_loop().call_soon(_resolve, future)

    def _unblocked(self, future: Future[Any]) -> None:
        if self._blocked_on is future:
            self._blocked_on = None
        if self._phase in (_Phase.CLOSED, _Phase.DETACHED):
            if not future.cancelled():
                future.exception()
            return
        try:
            try:
                with _delegate_errors_logged:
                    future.result()
            except asyncio.CancelledError:
                self.close()
                return
        except HTTPInputError as e:
            self._reject(e)
            return
        except _QuietException:
            self.close()
            return
        self._process()

    def _reject(self, error: HTTPInputError) -> None:
        """Log bad input, answer it with a bare 400 and close."""
        gen_log.info("Malformed HTTP message from %s: %s", self.context, error)
        exchange = self._exchange
        if exchange is None or not exchange._response_started:
            self._write(BAD_REQUEST_RESPONSE)
        self._buffer.clear()
        if exchange is not None and self._phase in _READING_PHASES:
            self._exchange = None
            delegate, self._delegate = self._delegate, None
            assert delegate is not None
            _notify_connection_close(delegate)
        self.close()

    def _sync_reading(self) -> None:
        """Read while a request is wanted, or while idle with nothing buffered.

        Reading on while idle is how a client leaving is noticed.
        """
        transport = self._transport
        if transport is None or self._phase in (_Phase.CLOSED, _Phase.DETACHED):
            return
        phase = self._phase
        if phase is _Phase.ANSWERING:
            wanted = not self._buffer
        else:
            wanted = self._blocked_on is None and not (
                self._writing_paused and phase is _Phase.HEAD
            )
        if wanted == self._reading_paused and not transport.is_closing():
            self._reading_paused = not wanted
            if wanted:
                transport.resume_reading()
            else:
                transport.pause_reading()

    def _stop_timers(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        body, self._body = self._body, None
        if body is not None:
            body.stop()

    # -- writing ------------------------------------------------------------------

    def _write(self, data: bytes) -> Future[None]:
        """Send ``data``; the future resolves once the transport takes more."""
        transport = self._transport
        if self._phase in (_Phase.CLOSED, _Phase.DETACHED) or (
            transport is None or transport.is_closing()
        ):
            return _failed_write()
        if data:
            transport.write(data)
        if self._writing_paused:
            waiter: Future[None] = asyncio.get_running_loop().create_future()
            if self._drain_waiters is None:
                self._drain_waiters = []
            self._drain_waiters.append(waiter)
            return waiter
        done = self._done_write
        if done is None:
            done = self._done_write = asyncio.get_running_loop().create_future()
            done.set_result(None)
        return done

    def _fail_drain_waiters(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters or (), None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(iostream.StreamClosedError())
                waiter.exception()

    def _exchange_done(self, exchange: _ServerExchange) -> None:
        """The response is written: close, or wait for the next request."""
        if exchange is not self._exchange:
            return
        self._delegate = None  # it holds the request, which holds us
        if self._phase in (_Phase.CLOSED, _Phase.DETACHED):
            return
        if exchange._disconnect_on_finish:
            self.close()
            return
        self._exchange = None
        self._phase = _Phase.HEAD
        if self._head_timer is not None:
            self._head_timer.start()
        if self._buffer:
            self._give_turn()  # a pipelined request: others go first
        if not self._processing:  # (else _process does it on its way out)
            self._sync_reading()


class _BodyReader:
    """Passes a request body on from the buffer, within the body timeout."""

    __slots__ = (
        "_exchange",
        "_remaining",
        "_decoder",
        "_merged",
        "_ready",
        "_work",
        "_timer",
    )

    def __init__(
        self, protocol: HTTP1ServerProtocol, exchange: _ServerExchange
    ) -> None:
        self._exchange = exchange
        framing = exchange._framing
        self._remaining = framing.length
        self._decoder: ChunkedDecoder | None = None
        self._merged: _MergedBody | None = None
        # Merged pieces of a chunked body, delivered one per turn of the loop.
        self._ready: list[bytes] = []
        self._work = 0
        if framing.kind is BodyKind.CHUNKED:
            self._decoder = ChunkedDecoder(exchange._max_body_size)
            self._merged = _MergedBody(protocol.params.chunk_size)
        self._timer: _WaitTimer | None = None
        timeout = exchange._body_timeout
        if timeout is not None:

            def on_timeout() -> None:
                gen_log.info("Timeout reading body from %s", protocol.context)
                protocol.close()

            self._timer = _WaitTimer(IOLoop.current(), timeout, on_timeout)
            self._timer.start()

    def stop(self) -> None:
        """The body is over (or the connection): no more timeout."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def take(self, protocol: HTTP1ServerProtocol) -> bool:
        """Pass on what the buffer holds of the body; false to wait for data."""
        if self._decoder is None:
            return self._take_fixed(protocol)
        return self._take_chunked(protocol)

    def _take_fixed(self, protocol: HTTP1ServerProtocol) -> bool:
        exchange = self._exchange
        if self._remaining == 0:
            protocol._message_read(exchange)
            return True
        buffer = protocol._buffer
        if not buffer:
            return False
        size = min(self._remaining, len(buffer), protocol.params.chunk_size)
        chunk = bytes(buffer[:size])
        del buffer[:size]
        self._remaining -= size
        protocol._deliver(exchange, chunk)
        return True

    def _take_chunked(self, protocol: HTTP1ServerProtocol) -> bool:
        """Decode what the buffer holds; merged pieces go out before a wait."""
        decoder, merged = self._decoder, self._merged
        assert decoder is not None and merged is not None
        exchange = self._exchange
        if self._ready:
            protocol._deliver(exchange, self._ready.pop(0))
            return True
        size = 0
        if not decoder.finished:
            size = _chunked_take_size(
                decoder, protocol._buffer, protocol.params.chunk_size
            )
        if size == 0:
            self._work = 0
            if merged.pending:
                protocol._deliver(exchange, merged.take())
                return True
            if decoder.finished:
                protocol._message_read(exchange)
                return True
            return False
        buffer = protocol._buffer
        data = bytes(buffer[:size])
        del buffer[:size]
        for piece in decoder.feed(data):
            self._ready.extend(merged.add(piece))
        self._work += size + _CHUNKED_WORK_PER_READ
        if self._work >= _CHUNKED_WORK_PER_TURN:
            self._work = 0
            protocol._give_turn()
        return True


def _chunked_take_size(decoder: ChunkedDecoder, buffer: bytearray, limit: int) -> int:
    """How many buffered bytes to feed ``decoder`` next (0: wait for more)."""
    hint = decoder.next_read()
    if hint.delimiter is None:
        return min(hint.max_bytes, len(buffer), limit)
    end = buffer.find(hint.delimiter, 0, hint.max_bytes)
    if end >= 0:
        return end + len(hint.delimiter)
    if len(buffer) >= hint.max_bytes:
        return hint.max_bytes  # too long a line: the decoder says so
    return 0


_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class _ServerExchange(HTTP1Connection):
    """One request and its response on an `HTTP1ServerProtocol`.

    This is ``request.connection`` for HTTP/1 requests served from a
    transport: the application writes its response with `write_headers`,
    `write` and `finish`.  It is an `HTTP1Connection` for code checking
    that, but reads nothing itself (the protocol does).
    """

    #: A server's side of the exchange.
    is_client = False

    __slots__ = (
        "_protocol",
        "_request_start_line",
        "_framing",
        "_disconnect_on_finish",
        "_expects_continue",
        "_max_body_size",
        "_body_timeout",
        "_encoder",
        "_omit_body",
        "_response_started",
        "_read_finished",
        "_write_finished",
        "_close_callback",
        "_detached",
        "context",
        "params",
    )

    def __init__(self, protocol: HTTP1ServerProtocol) -> None:  # noqa: B027
        # HTTP1Connection.__init__ is not called: its reading state is unused.
        self._protocol = protocol
        self._request_start_line: RequestStartLine | None = None
        self._framing = NO_BODY
        self._disconnect_on_finish = False
        self._expects_continue = False
        params = protocol.params
        # Copies, not properties reading the protocol's (a call per use): the
        # context is set once the transport is there, before any exchange,
        # and the parameters never change.
        #: The connection's context (the client's address, for a server).
        self.context: object = protocol.context
        #: The `HTTP1ConnectionParameters` in effect.
        self.params = params
        self._max_body_size = (
            params.max_body_size
            if params.max_body_size is not None
            else protocol._max_buffer_size
        )
        self._body_timeout = params.body_timeout
        self._encoder: BodyEncoder | None = None
        self._omit_body = False
        self._response_started = False
        self._read_finished = False
        self._write_finished = False
        self._close_callback: Callable[[], None] | None = None
        self._detached = False

    @property
    def stream(self) -> iostream.IOStream | None:  # type: ignore[override]
        """An `.IOStream` over the connection (made on first use); ``None`` once detached."""
        if self._detached:
            return None
        return self._protocol.stream

    @property
    def no_keep_alive(self) -> bool:  # type: ignore[override]
        """Whether connections close after each exchange."""
        return self.params.no_keep_alive

    def _body_size_limit(self) -> int:
        return self._max_body_size

    # -- what the protocol tells the exchange -------------------------------------

    def _head_read(
        self,
        start_line: RequestStartLine,
        framing: Framing,
        disconnect_on_finish: bool,
        expects_continue: bool,
    ) -> None:
        """The request head is in: what it says about this exchange."""
        self._request_start_line = start_line
        self._framing = framing
        self._disconnect_on_finish = disconnect_on_finish
        self._expects_continue = expects_continue

    def _request_read(self) -> bool:
        """The whole request is in; true if the response was already finished."""
        self._read_finished = True
        return self._write_finished

    # -- connection state ---------------------------------------------------------

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the connection closes before the exchange ends."""
        self._close_callback = callback

    def set_body_timeout(self, timeout: float) -> None:
        """Change the body timeout of this exchange (seconds)."""
        self._body_timeout = timeout

    def set_max_body_size(self, max_body_size: int) -> None:
        """Change the body size limit of this exchange (bytes)."""
        self._max_body_size = max_body_size

    def close(self) -> None:
        """Close the connection."""
        self._close_callback = None
        if not self._detached:
            self._protocol.close()

    def detach(self) -> iostream.IOStream:
        """Take the connection away from HTTP, for another protocol to use.

        Bytes the client sent after the request come first on the stream.
        """
        self._detached = True
        self._close_callback = None
        return self._protocol.detach()

    def _connection_lost(self, was_reading: bool) -> None:
        """The connection is gone (the protocol told the delegate if need be)."""
        if was_reading:
            return
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            try:
                callback()
            except Exception:
                app_log.error("Exception in callback %r", callback, exc_info=True)

    # -- writing ------------------------------------------------------------------

    # write_headers, write and _encode are HTTP1Connection's; only the way
    # bytes leave (to the protocol) and a broken framing's close differ.

    def _write_to_stream(self, data: bytes) -> Future[None]:
        if self._detached:
            return _failed_write()
        return self._protocol._write(data)

    def _close_stream(self) -> None:
        self.close()

    def finish(self) -> None:
        """Mark the end of the response."""
        if self._encoder is not None and self._encoder is not _BODY_COMPLETE:
            try:
                ending = self._encoder.finish()
            except HTTPOutputError:
                self.close()
                raise
        else:
            ending = b""
        if self._detached:
            return
        protocol = self._protocol
        if ending:
            protocol._write(ending)
        self._write_finished = True
        self._close_callback = None
        if not self._read_finished:
            # The rest of the request is discarded; the connection can't be
            # reused since the next request's start is unknown.
            self._disconnect_on_finish = True
        protocol._exchange_done(self)


def _failed_write() -> Future[None]:
    future: Future[None] = Future()
    future.set_exception(iostream.StreamClosedError())
    future.exception()  # nobody needs to look at it
    return future


def _set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Send responses at once rather than waiting for acknowledgements."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # a connection already gone
