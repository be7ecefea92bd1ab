"""The server side of an HTTP/2 connection, on the ``h2`` state machine.

`HTTP2Session` does no I/O: it is fed the bytes a client sends
(`HTTP2Session.receive`) and hands the bytes to send to a ``write``
callable; timers and deferred calls go through the `SessionIO` it is given.
Each stream becomes one request delivered to an
`.HTTPServerConnectionDelegate`, exactly as an HTTP/1 request is; its
`.HTTPConnection` (what ``request.connection`` is) is a `Stream`.

Flow control runs both ways.  A request body is acknowledged to the client
(WINDOW_UPDATE) only once the delegate has consumed it, so a delegate that
returns an awaitable from ``data_received`` slows the client down.  A
response is sent as the client's windows allow, and the futures returned by
`Stream.write` resolve when their data has been handed over, so a handler
awaiting ``flush()`` waits for the client.

This module needs the ``h2`` package; `tornado._http2` imports it lazily.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
from asyncio import Future
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from tornado import _http2_wire as wire
from tornado import httputil
from tornado.http1connection import _GzipMessageDelegate
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import StreamClosedError
from tornado.log import app_log, gen_log

# The connection's receive window (the client may send this much request
# body ahead of what the delegates consumed, over all streams); each stream
# keeps the protocol's default window of 64 KiB.
CONNECTION_WINDOW = 1024 * 1024
_DEFAULT_WINDOW = 65535
# Client-initiated resets of unfinished streams: a burst, then so many per
# second; a stream answered in full earns one back.  Beyond that the client
# is resetting streams to make the server work for nothing (CVE-2023-44487).
RESET_BURST = 200
RESET_RATE = 20.0
# PING and SETTINGS frames (each makes the server answer): a burst, then
# so many per second.
CONTROL_BURST = 200
CONTROL_RATE = 20.0
# DATA frames one stream sends in a row before others get their turn.
_FRAMES_PER_TURN = 4
# Timers may fire a little early; a deadline this close counts as reached.
_TIMER_SLACK = 0.01


class Cancellable(Protocol):
    """A scheduled call that can be called off (an `asyncio.TimerHandle`)."""

    def cancel(self) -> None: ...


class SessionIO(NamedTuple):
    """What a session needs from the code running it."""

    #: Sends bytes to the client.
    write: Callable[[bytes], None]
    #: Closes the connection once what was written is sent.
    close: Callable[[], None]
    #: Calls a function after a delay in seconds (like `asyncio.loop.call_later`).
    call_later: Callable[[float, Callable[[], None]], Cancellable]
    #: Calls a function soon, after the current one returns.
    call_soon: Callable[[Callable[[], None]], object]
    #: The current time in seconds, monotonic.
    time: Callable[[], float]


class SessionLimits(NamedTuple):
    """The limits a session applies (see `.HTTPServer` for their meaning)."""

    max_concurrent_streams: int = 100
    max_header_size: int = 64 * 1024
    max_body_size: int = 100 * 1024 * 1024
    chunk_size: int = 64 * 1024
    body_timeout: float | None = None
    #: Seconds with no open stream, or with output stuck behind a client
    #: that takes none, before the connection is closed.
    idle_timeout: float | None = 3600.0
    decompress: bool = False


def _new_h2_connection(limits: SessionLimits) -> h2.connection.H2Connection:
    config = h2.config.H2Configuration(
        client_side=False,
        header_encoding=None,
        # The fields sent are made by response_fields: lowercase and checked.
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )
    connection = h2.connection.H2Connection(config=config)
    codes = h2.settings.SettingCodes
    connection.local_settings = h2.settings.Settings(
        client=False,
        initial_values={
            codes.MAX_CONCURRENT_STREAMS: limits.max_concurrent_streams,
            codes.MAX_HEADER_LIST_SIZE: limits.max_header_size,
        },
    )
    # The decoded size limit (an HPACK bomb stops there); it would otherwise
    # take effect only once the client acknowledged the setting.
    connection.decoder.max_header_list_size = limits.max_header_size
    return connection


class HTTP2Session:
    """One HTTP/2 connection, from the server's side, without I/O.

    ``delegate`` receives the requests (``start_request(server_conn,
    stream)``) and, through the protocol driving the session, hears of the
    connection's end.  ``context`` describes the connection (the client's
    address, its protocol); each stream gets a copy of its own as
    ``request.connection.context``, so proxy headers applied to one request
    (``xheaders``) never show in another.
    """

    def __init__(
        self,
        delegate: HTTPServerConnectionDelegate,
        server_conn: object,
        context: object,
        limits: SessionLimits,
        io: SessionIO,
    ) -> None:
        self.delegate = delegate
        self.server_conn = server_conn
        self.context = context
        self.limits = limits
        self.io = io
        self.h2 = _new_h2_connection(limits)
        self._scanner = wire.FrameScanner(
            self.h2.max_inbound_frame_size, limits.max_header_size
        )
        self.streams: dict[int, Stream] = {}
        # Streams with something to send, in the order they asked.
        self._sending: dict[int, Stream] = {}
        now = io.time()
        self._resets = wire.TokenBucket(RESET_BURST, RESET_RATE, now)
        self._control_frames = wire.TokenBucket(CONTROL_BURST, CONTROL_RATE, now)
        #: Whether the connection is over (closed, or closing for good).
        self.closed = False
        self._receiving = False
        self._pump_scheduled = False
        #: Whether the transport asked for a pause in sending.
        self.output_paused = False
        # After a graceful GOAWAY: streams above this one are refused.
        self._draining = False
        self._last_stream_id = 0
        # Since when the connection has had no stream, or its output has
        # been stuck; the watchdog closes it once either lasts too long.
        self._idle_since: float | None = now
        self._stalled_since: float | None = None
        self._watchdog: Cancellable | None = None
        self._watchdog_due = 0.0
        self._handlers: dict[type, Callable[[Any], None]] = {
            h2.events.RequestReceived: self._on_request,
            h2.events.DataReceived: self._on_data,
            h2.events.StreamEnded: self._on_stream_ended,
            h2.events.StreamReset: self._on_stream_reset,
            h2.events.PingReceived: self._on_control_frame,
            h2.events.RemoteSettingsChanged: self._on_control_frame,
            h2.events.ConnectionTerminated: self._on_goaway,
        }

    # -- driving ------------------------------------------------------------------

    def start(self) -> None:
        """Send the server's connection preface (its SETTINGS)."""
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(CONNECTION_WINDOW - _DEFAULT_WINDOW)
        self._flush()
        self._watch()

    def receive(self, data: bytes) -> None:
        """Process bytes received from the client."""
        if self.closed:
            return
        try:
            self._scanner.feed(data)
            events = self.h2.receive_data(data)
        except wire.FrameLimitError as e:
            self.terminate(e.error_code, str(e))
            return
        except h2.exceptions.ProtocolError as e:
            self.terminate(int(e.error_code), str(e) or type(e).__name__)
            return
        self._receiving = True
        try:
            for event in events:
                handler = self._handlers.get(type(event))
                if handler is not None:
                    handler(event)
                if self._has_ended():
                    return
        except Exception:
            # A bug (ours, or a delegate's start_request): this connection
            # ends, the server goes on.
            app_log.error("Uncaught exception", exc_info=True)
            self.terminate(wire.INTERNAL_ERROR, "internal error")
            return
        finally:
            self._receiving = False
        self._pump()

    def _has_ended(self) -> bool:
        # A method, not the attribute: mypy would keep `closed` narrowed to
        # False across the event handlers that set it.
        return self.closed

    def pause_output(self) -> None:
        """The transport's buffer is full: send nothing more until `resume_output`."""
        self.output_paused = True
        if self._stalled_since is None:
            self._stalled_since = self.io.time()
        self._watch()

    def resume_output(self) -> None:
        """The transport takes data again."""
        self.output_paused = False
        self._stalled_since = None
        self.schedule_pump()

    def shutdown(self) -> None:
        """Close gracefully: GOAWAY now, the connection closes once open streams end.

        Streams the client opens afterwards are refused (REFUSED_STREAM).
        """
        if self.closed or self._draining:
            return
        self._draining = True
        self._last_stream_id = self.h2.highest_inbound_stream_id
        # h2 can send GOAWAY only as its last frame; this one is written
        # directly, after everything h2 has queued.
        self._flush()
        self.io.write(wire.goaway_frame(self._last_stream_id, wire.NO_ERROR))
        self._close_if_drained()

    def abort(self) -> None:
        """Close now: open streams are cut off (their delegates are told)."""
        if self.closed:
            return
        self._close_streams()
        self._send_goaway(wire.NO_ERROR)
        self._close()

    def terminate(self, error_code: int, reason: str) -> None:
        """End the connection because of the client, logging why (once)."""
        if self.closed:
            return
        abusive = error_code == wire.ENHANCE_YOUR_CALM
        gen_log.log(
            logging.WARNING if abusive else logging.INFO,
            "HTTP/2 connection from %s closed with %s: %s",
            self.context,
            wire.error_name(error_code),
            reason,
        )
        self._send_goaway(error_code)
        self._close_streams()
        self._close()

    def connection_lost(self) -> None:
        """The transport is gone: cut off open streams, stop the timers."""
        if not self.closed:
            self.closed = True
            self._close_streams()
        self._cancel_watchdog()

    # -- h2 events ----------------------------------------------------------------

    def _on_request(self, event: h2.events.RequestReceived) -> None:
        stream_id = event.stream_id
        if self._draining and stream_id > self._last_stream_id:
            self.reset(stream_id, wire.REFUSED_STREAM)
            return
        stream = Stream(self, stream_id, copy.copy(self.context))
        self.streams[stream_id] = stream
        self._idle_since = None
        stream.start(event.headers or [])

    def _on_data(self, event: h2.events.DataReceived) -> None:
        assert event.stream_id is not None and event.flow_controlled_length is not None
        stream = self.streams.get(event.stream_id)
        if stream is None:
            self.ack(event.stream_id, event.flow_controlled_length)
        else:
            stream.data_arrived(event.data or b"", event.flow_controlled_length)

    def _on_stream_ended(self, event: h2.events.StreamEnded) -> None:
        stream = self.streams.get(event.stream_id or 0)
        if stream is not None:
            stream.remote_ended()

    def _on_stream_reset(self, event: h2.events.StreamReset) -> None:
        stream = self.streams.get(event.stream_id or 0)
        if stream is None:
            return
        stream.close(None)
        if event.remote_reset and not self._resets.take(self.io.time()):
            self.terminate(wire.ENHANCE_YOUR_CALM, "too many streams reset")

    def _on_control_frame(self, event: h2.events.Event) -> None:
        if not self._control_frames.take(self.io.time()):
            self.terminate(wire.ENHANCE_YOUR_CALM, "too many PING or SETTINGS frames")

    def _on_goaway(self, event: h2.events.ConnectionTerminated) -> None:
        # h2 sends nothing more after the client's GOAWAY: the streams the
        # client still expects answers on cannot be answered.
        self._close_streams()
        self._close()

    # -- services for streams -----------------------------------------------------

    def ack(self, stream_id: int, size: int) -> None:
        """Hand ``size`` received bytes back to the client's windows."""
        if self.closed or not size:
            return
        try:
            self.h2.acknowledge_received_data(size, stream_id)
        except h2.exceptions.ProtocolError:
            return  # the stream is unknown to h2 by now
        self.schedule_pump()

    def reset(self, stream_id: int, error_code: int) -> None:
        """Send RST_STREAM, unless the stream or connection is closed already."""
        if self.closed:
            return
        try:
            self.h2.reset_stream(stream_id, error_code)
        except h2.exceptions.ProtocolError:
            return
        self.schedule_pump()

    def want_to_send(self, stream: Stream) -> None:
        """``stream`` has output: send it soon."""
        self._sending[stream.stream_id] = stream
        self.schedule_pump()

    def schedule_pump(self) -> None:
        """Send what can be sent, soon (once for everything asked in one turn)."""
        if self._pump_scheduled or self._receiving or self.closed:
            return
        self._pump_scheduled = True
        self.io.call_soon(self._pump)

    def stream_done(self, stream: Stream, answered: bool) -> None:
        """``stream`` is over; ``answered`` if its response went out in full."""
        self.streams.pop(stream.stream_id, None)
        self._sending.pop(stream.stream_id, None)
        if answered:
            self._resets.give()
        if not self.streams:
            self._idle_since = self.io.time()
            self._watch()
        self._close_if_drained()

    # -- sending ------------------------------------------------------------------

    def _pump(self) -> None:
        """Send the streams' output, a few frames each in turn, as windows allow."""
        self._pump_scheduled = False
        if self.closed:
            return
        progressed = False
        while self._sending and not self.output_paused:
            sent = False
            for stream in list(self._sending.values()):
                try:
                    sent = stream.send_some() or sent
                except h2.exceptions.ProtocolError:
                    stream.close(None)  # reset meanwhile, or the connection ended
            self._flush()
            progressed = progressed or sent
            if not sent or self.closed:
                break
        self._flush()
        self._note_output_progress(progressed)

    def no_longer_sending(self, stream: Stream) -> None:
        """``stream`` has sent all it had for now."""
        self._sending.pop(stream.stream_id, None)

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.io.write(data)

    def _send_goaway(self, error_code: int) -> None:
        # Once h2 has closed the connection it has sent its GOAWAY (when it
        # detects a protocol error, with the right code).
        if self.h2.state_machine.state != h2.connection.ConnectionState.CLOSED:
            self.h2.close_connection(error_code)
        self._flush()

    # -- ending -------------------------------------------------------------------

    def _close_streams(self) -> None:
        for stream in list(self.streams.values()):
            stream.close(None, connection_lost=True)
        self.streams.clear()
        self._sending.clear()

    def _close_if_drained(self) -> None:
        if self._draining and not self.streams and not self.closed:
            self._send_goaway(wire.NO_ERROR)
            self._close()

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._cancel_watchdog()
        self.io.close()

    # -- idle and stalled connections -----------------------------------------------

    def _note_output_progress(self, progressed: bool) -> None:
        if self._sending or self.output_paused:
            if progressed or self._stalled_since is None:
                self._stalled_since = self.io.time()
            self._watch()
        else:
            self._stalled_since = None

    def _quiet_since(self) -> float | None:
        times = [t for t in (self._idle_since, self._stalled_since) if t is not None]
        return min(times) if times else None

    def _watch(self) -> None:
        """Arm the watchdog for the earliest idle or stall deadline."""
        timeout = self.limits.idle_timeout
        since = self._quiet_since()
        if timeout is None or since is None or self.closed:
            return
        due = since + timeout
        if self._watchdog is not None:
            if self._watchdog_due <= due:
                return  # it fires first and looks again
            self._watchdog.cancel()
        self._watchdog_due = due
        delay = max(0.0, due - self.io.time())
        self._watchdog = self.io.call_later(delay, self._on_watchdog)

    def _cancel_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _on_watchdog(self) -> None:
        self._watchdog = None
        timeout = self.limits.idle_timeout
        if timeout is None or self.closed:
            return
        now = self.io.time()
        if (
            self._idle_since is not None
            and now - self._idle_since >= timeout - _TIMER_SLACK
        ):
            self._send_goaway(wire.NO_ERROR)
            self._close()
        elif (
            self._stalled_since is not None
            and now - self._stalled_since >= timeout - _TIMER_SLACK
        ):
            self.terminate(
                wire.NO_ERROR, f"no data taken by the client for {timeout:g} s"
            )
        else:
            self._watch()


_HEADERS_STEP = -1  # the "flow" of the headers_received step (see Stream._call)


class Stream(httputil.HTTPConnection):
    """One request/response exchange on an HTTP/2 connection.

    The `.HTTPConnection` of the request (``request.connection``): the
    application writes its response with `write_headers`, `write` and
    `finish`.  Connection-specific headers of HTTP/1 (``Connection``,
    ``Transfer-Encoding``, ``Keep-Alive``...) are left out of the response.
    """

    def __init__(self, session: HTTP2Session, stream_id: int, context: object) -> None:
        #: The connection's context (a copy of its own for this stream).
        self.context = context
        #: The stream's identifier.
        self.stream_id = stream_id
        #: The ``:scheme`` the client sent (``request.protocol`` comes from
        #: the connection, as for HTTP/1).
        self.scheme = ""
        self._session = session
        limits = session.limits
        self._delegate: HTTPMessageDelegate | None = None
        self._method = ""
        # -- the request
        # Body pieces (and their flow-controlled size) the delegate has not
        # had yet; None marks the end of the body.
        self._inbox: deque[tuple[bytes, int] | None] = deque()
        self._busy = False  # waiting for an awaitable from the delegate
        self._reading = True  # the delegate still takes the request
        self._remote_ended = False
        self._body_size = 0
        self._declared_size: int | None = None
        self._max_body_size = limits.max_body_size
        self._body_timeout = limits.body_timeout
        self._body_timer: Cancellable | None = None
        self._started_at = session.io.time()
        self._expects_continue = False
        self._close_callback: Callable[[], None] | None = None
        # -- the response
        self._headers_out: list[tuple[bytes, bytes]] | None = None
        self._response_started = False
        # Data to send, with the future to resolve once a write is sent.
        self._outbox: deque[tuple[memoryview, Future[None] | None]] = deque()
        self._queued = 0  # bytes in _outbox
        self._remaining: int | None = None  # of the declared Content-Length
        self._omit_body = False
        self._finishing = False  # finish() was called
        self._ended = False  # END_STREAM was sent
        self._gone = False  # reset, or the connection ended

    # -- the request ----------------------------------------------------------------

    def start(self, fields: list[tuple[bytes, bytes]]) -> None:
        """Map the request head and hand it to a new delegate."""
        try:
            head = wire.request_head(fields)
            self._declared_size = wire.requested_length(head.headers)
        except HTTPInputError as e:
            self.reject(e)
            return
        self.scheme = head.scheme
        self._method = head.start_line.method
        session = self._session
        delegate = session.delegate.start_request(session.server_conn, self)
        if session.limits.decompress:
            delegate = _GzipMessageDelegate(
                delegate, session.limits.chunk_size, lambda: self._max_body_size
            )
        self._delegate = delegate
        self._expects_continue = (
            head.headers.get("Expect", "").lower() == "100-continue"
        )
        self._arm_body_timer()
        self._call(
            functools.partial(delegate.headers_received, head.start_line, head.headers),
            _HEADERS_STEP,
        )

    def data_arrived(self, data: bytes, flow: int) -> None:
        """A DATA frame's payload (``flow``: its size for flow control)."""
        if not self._reading:
            self._session.ack(self.stream_id, flow)
            return
        self._body_size += len(data)
        if self._body_size > self._max_body_size:
            self._session.ack(self.stream_id, flow)
            self.reject(HTTPInputError("Body too long"))
            return
        chunk_size = self._session.limits.chunk_size
        while len(data) > chunk_size:
            self._inbox.append((data[:chunk_size], 0))
            data = data[chunk_size:]
        self._inbox.append((data, flow))
        self._advance()

    def remote_ended(self) -> None:
        """The client has sent all of its request."""
        self._remote_ended = True
        self._cancel_body_timer()
        if self._reading:
            self._inbox.append(None)
            self._advance()

    def _advance(self) -> None:
        """Pass queued body pieces on, one at a time, as the delegate takes them."""
        while self._reading and not self._busy and self._inbox:
            item = self._inbox.popleft()
            if item is None:
                self._finish_request()
                return
            data, flow = item
            delegate = self._delegate
            assert delegate is not None
            self._call(functools.partial(delegate.data_received, data), flow)

    def _call(self, step: Callable[[], Awaitable[None] | None], flow: int) -> None:
        """Run a delegate step; ``flow`` bytes are acknowledged once it is done."""
        try:
            result = step()
        except Exception as e:
            self._delegate_failed(e)
            return
        if result is None:
            self._step_done(flow)
            return
        self._busy = True
        future = asyncio.ensure_future(result)
        future.add_done_callback(functools.partial(self._resumed, flow))

    def _resumed(self, flow: int, future: Future[None]) -> None:
        self._busy = False
        cancelled = future.cancelled()
        error = None if cancelled else future.exception()
        if cancelled or not self._reading or self._gone:
            self._session.ack(self.stream_id, max(flow, 0))
            if cancelled:
                self.close(wire.CANCEL)
            return
        if error is not None:
            self._delegate_failed(error)
            return
        self._step_done(flow)
        self._advance()

    def _step_done(self, flow: int) -> None:
        if flow == _HEADERS_STEP:
            self._headers_done()
        else:
            self._session.ack(self.stream_id, flow)

    def _headers_done(self) -> None:
        """The delegate has the headers (and could change the body limits)."""
        if (
            self._declared_size is not None
            and self._declared_size > self._max_body_size
        ):
            self.reject(HTTPInputError("Content-Length too long"))
            return
        waiting = not (self._response_started or self._gone or self._remote_ended)
        if self._expects_continue and waiting:
            self._send_interim([(b":status", b"100")])

    def _send_interim(self, fields: list[tuple[bytes, bytes]]) -> bool:
        """Send a 1xx response; false if the stream can take none."""
        try:
            self._session.h2.send_headers(self.stream_id, fields)
        except h2.exceptions.ProtocolError:
            return False
        self._session.schedule_pump()
        return True

    def _finish_request(self) -> None:
        self._reading = False
        self._cancel_body_timer()
        delegate = self._delegate
        assert delegate is not None
        try:
            delegate.finish()
        except Exception as e:
            self._reading = True  # so that the delegate hears of the failure
            self._delegate_failed(e)

    def _delegate_failed(self, error: BaseException) -> None:
        if isinstance(error, HTTPInputError):
            self.reject(error)
            return
        app_log.error("Uncaught exception", exc_info=error)
        self._reading = False  # the failing delegate is not called again
        self.close(wire.INTERNAL_ERROR)

    def reject(self, error: HTTPInputError) -> None:
        """Answer a malformed request with a bare 400 and end the stream."""
        gen_log.info("Malformed HTTP message from %s: %s", self.context, error)
        if self._response_started or self._gone:
            self.close(wire.PROTOCOL_ERROR)
            return
        self._stop_reading(notify=True)
        session = self._session
        self._response_started = self._ended = True
        try:
            session.h2.send_headers(
                self.stream_id,
                [(b":status", b"400"), (b"content-length", b"0")],
                end_stream=True,
            )
        except h2.exceptions.ProtocolError:
            pass
        if not self._remote_ended:
            session.reset(self.stream_id, wire.NO_ERROR)
        session.schedule_pump()
        self.close(None)

    # -- the end of the stream ------------------------------------------------------

    def close(self, error_code: int | None, connection_lost: bool = False) -> None:
        """End the stream early (reset with ``error_code`` unless ``None``).

        The delegate, if it still expected the request, and the close
        callback hear of it; pending writes fail with `.StreamClosedError`.
        """
        if self._gone:
            return
        self._gone = True
        self._stop_reading(notify=True, ack=not connection_lost)
        if error_code is not None:
            self._session.reset(self.stream_id, error_code)
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            _run_notification(callback)
        self._fail_writes()
        if not connection_lost:
            self._session.stream_done(self, answered=False)

    def _stop_reading(self, notify: bool, ack: bool = True) -> None:
        self._cancel_body_timer()
        unconsumed = sum(item[1] for item in self._inbox if item is not None)
        self._inbox.clear()
        if ack:
            self._session.ack(self.stream_id, unconsumed)
        if self._reading:
            self._reading = False
            if notify and self._delegate is not None:
                _run_notification(self._delegate.on_connection_close)

    def _fail_writes(self) -> None:
        for _, future in self._outbox:
            if future is not None and not future.done():
                future.set_exception(StreamClosedError())
                future.exception()  # no "never retrieved" report
        self._outbox.clear()
        self._queued = 0

    # -- timeouts and limits ----------------------------------------------------------

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the stream ends before the response is sent.

        That is when the client resets it or the connection closes.
        ``None`` removes the callback.
        """
        self._close_callback = callback

    def set_body_timeout(self, timeout: float) -> None:
        """Allow the request body ``timeout`` seconds from the request's start."""
        self._body_timeout = timeout
        self._arm_body_timer()

    def set_max_body_size(self, max_body_size: int) -> None:
        """Change the largest request body accepted (bytes)."""
        self._max_body_size = max_body_size

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        if self._body_timeout is None or self._remote_ended or not self._reading:
            return
        io = self._session.io
        delay = max(0.0, self._started_at + self._body_timeout - io.time())
        self._body_timer = io.call_later(delay, self._body_timed_out)

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timed_out(self) -> None:
        self._body_timer = None
        gen_log.info("Timeout reading body from %s", self.context)
        self.close(wire.CANCEL)

    # -- the response -----------------------------------------------------------------

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> Future[None]:
        """Send the status and headers, and optionally a first piece of body.

        Returns a future resolved once they are handed to the connection
        (within the client's flow-control window); it fails with
        `.StreamClosedError` if the stream was reset or the connection
        closed.  ``Content-Length``, when given, is enforced as over HTTP/1
        (`.HTTPOutputError`).
        """
        if self._gone:
            return _closed_future()
        assert isinstance(start_line, ResponseStartLine)
        fields = wire.response_fields(start_line, headers)
        if start_line.code < 200:  # an interim response, such as 103
            return _done_future() if self._send_interim(fields) else _closed_future()
        self._omit_body = self._method == "HEAD" or start_line.code in (204, 304)
        try:
            declared = wire.declared_length(headers)
        except HTTPOutputError:
            self.close(wire.INTERNAL_ERROR)
            raise
        self._remaining = None if self._omit_body else declared
        self._headers_out = fields
        self._response_started = True
        return self._queue(chunk or b"")

    def write(self, chunk: bytes) -> Future[None]:
        """Send a piece of the body; the future resolves once it is handed over.

        Raises `.HTTPOutputError` (resetting the stream) if this goes beyond
        the declared ``Content-Length``.
        """
        if self._gone:
            return _closed_future()
        assert self._response_started, "write_headers() must be called first"
        return self._queue(chunk)

    def finish(self) -> None:
        """End the response.  The rest of an unread request body is discarded.

        Raises `.HTTPOutputError` (resetting the stream) if fewer bytes than
        the declared ``Content-Length`` were written.
        """
        if self._gone or self._finishing:
            return
        assert self._response_started, "write_headers() must be called first"
        if self._remaining:
            missing = self._remaining
            self.close(wire.INTERNAL_ERROR)
            raise HTTPOutputError(
                f"Tried to write {missing} bytes less than Content-Length"
            )
        self._finishing = True
        self._stop_reading(notify=False)
        self._session.want_to_send(self)

    def _queue(self, chunk: bytes) -> Future[None]:
        future: Future[None] = Future()
        if self._omit_body:
            chunk = b""
        elif self._remaining is not None:
            if len(chunk) > self._remaining:
                self.close(wire.INTERNAL_ERROR)
                raise HTTPOutputError("Tried to write more data than Content-Length")
            self._remaining -= len(chunk)
        self._outbox.append((memoryview(chunk), future))
        self._queued += len(chunk)
        self._session.want_to_send(self)
        return future

    def send_some(self) -> bool:
        """Hand over what the windows allow (a few frames); true if anything went."""
        session = self._session
        connection = session.h2
        sent = False
        if self._headers_out is not None:
            end = self._finishing and not self._queued
            connection.send_headers(self.stream_id, self._headers_out, end_stream=end)
            self._headers_out = None
            self._ended = end
            sent = True
        frames = 0
        while self._queued and frames < _FRAMES_PER_TURN:
            window = min(
                connection.local_flow_control_window(self.stream_id),
                connection.max_outbound_frame_size,
            )
            if window <= 0:
                break
            data = self._take(window)
            end = self._finishing and not self._queued
            connection.send_data(self.stream_id, data, end_stream=end)
            self._ended = end
            sent = True
            frames += 1
        self._resolve_empty_writes()
        if self._finishing and not self._ended and not self._queued:
            connection.end_stream(self.stream_id)
            self._ended = sent = True
        if self._ended:
            self._response_sent()
        elif not self._queued:
            session.no_longer_sending(self)
        return sent

    def _take(self, size: int) -> bytes:
        """Up to ``size`` bytes from the outbox, resolving writes sent in full."""
        pieces = []
        while size and self._outbox:
            view, future = self._outbox[0]
            piece = view[:size]
            pieces.append(piece)
            size -= len(piece)
            self._queued -= len(piece)
            if len(piece) < len(view):
                self._outbox[0] = (view[len(piece) :], future)
                break
            self._outbox.popleft()
            _resolve(future)
        return b"".join(pieces)

    def _resolve_empty_writes(self) -> None:
        while self._outbox and not self._outbox[0][0]:
            _resolve(self._outbox.popleft()[1])

    def _response_sent(self) -> None:
        self._gone = True  # nothing more may be written
        self._close_callback = None
        if not self._remote_ended:
            # The client may stop sending the rest of its request.
            self._session.reset(self.stream_id, wire.NO_ERROR)
        self._session.stream_done(self, answered=True)


def _run_notification(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        app_log.error("Uncaught exception", exc_info=True)


def _resolve(future: Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


def _done_future() -> Future[None]:
    future: Future[None] = Future()
    future.set_result(None)
    return future


def _closed_future() -> Future[None]:
    future: Future[None] = Future()
    future.set_exception(StreamClosedError())
    future.exception()  # nobody needs to look at it
    return future
