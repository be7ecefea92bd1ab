"""Non-blocking streams over sockets, pipes and TLS connections.

A stream wraps one file descriptor registered with the current `.IOLoop`
and offers reads and writes that return futures:

* `BaseIOStream` holds the buffering and bookkeeping shared by every kind of
  stream: reads up to a delimiter, a regular expression, a byte count or the
  end of the stream, and writes that resolve once the data has been handed
  to the operating system.
* `IOStream` is a stream over a socket, with `IOStream.connect` for client
  sockets and `IOStream.start_tls` to upgrade a plain connection.
* `SSLIOStream` is a stream over a TLS socket.
* `PipeIOStream` is a stream over a pipe or another file descriptor that is
  not a socket (not available on Windows).

When a stream closes, every pending future fails with `StreamClosedError`.

A short example with a connected socket pair:

>>> import asyncio, socket
>>> from tornado.iostream import IOStream
>>> async def ping() -> bytes:
...     left, right = socket.socketpair()
...     sender, receiver = IOStream(left), IOStream(right)
...     await sender.write(b"ping\\n")
...     line = await receiver.read_until(b"\\n")
...     sender.close()
...     receiver.close()
...     return line
>>> asyncio.run(ping())
b'ping\\n'
"""

from __future__ import annotations

import collections
import contextvars
import doctest
import errno
import functools
import io
import os
import re
import socket
import ssl
import sys
import threading
import unittest
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from tornado import ioloop
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.log import gen_log
from tornado.netutil import _client_ssl_defaults, _server_ssl_defaults, ssl_wrap_socket
from tornado.util import errno_from_exception

__all__ = [
    "BaseIOStream",
    "IOStream",
    "SSLIOStream",
    "PipeIOStream",
    "StreamClosedError",
    "UnsatisfiableReadError",
    "StreamBufferFullError",
]

_ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
_Buffer = bytes | bytearray | memoryview
_SSLOptions = dict[str, Any] | ssl.SSLContext
_IOStreamT = TypeVar("_IOStreamT", bound="IOStream")
_SSLIOStreamT = TypeVar("_SSLIOStreamT", bound="SSLIOStream")

# Errors that mean the peer went away; they close the stream without a log.
_ERRNO_CONNRESET = frozenset(
    (errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT)
)

# Writes at most this large are copied into a shared bytearray so that many
# small writes leave in few system calls; larger ones are queued as views.
_COALESCE_LIMIT = 4096

# A single TLS read or write must stay below 2 GiB.
_TLS_IO_LIMIT = 1 << 30

_DEFAULT_MAX_BUFFER_SIZE = 100 * 1024 * 1024
_DEFAULT_READ_CHUNK_SIZE = 64 * 1024


class StreamClosedError(IOError):
    """Raised by a stream operation that cannot go on because the stream closed.

    ``real_error`` is the exception that closed the stream, when there was
    one (it is also the stream's ``error`` attribute); it is ``None`` when
    the peer simply closed the connection.
    """

    def __init__(self, real_error: BaseException | None = None) -> None:
        super().__init__("Stream is closed")
        #: The exception that caused the close, or ``None``.
        self.real_error = real_error


class UnsatisfiableReadError(Exception):
    """Raised when a read can never complete.

    This happens when ``read_until`` or ``read_until_regex`` is given
    ``max_bytes`` and the delimiter or pattern is not found within that
    many bytes; the stream is closed.
    """


class StreamBufferFullError(Exception):
    """Raised when a read or write buffer would grow past its configured limit."""


class _ReadBuffer:
    """Bytes received but not yet given to a reader.

    A bytearray and a start offset: taking bytes from the front only moves
    the offset, and the consumed prefix is dropped once it outgrows the live
    data, so the copying done stays linear in the bytes passing through.
    """

    __slots__ = ("_data", "_start")

    def __init__(self) -> None:
        self._data = bytearray()
        self._start = 0

    def __len__(self) -> int:
        return len(self._data) - self._start

    def append(self, chunk: _Buffer) -> None:
        self._data += chunk

    def find(self, needle: bytes, offset: int) -> int:
        """Index of ``needle`` at or after ``offset`` (both relative), or -1."""
        index = self._data.find(needle, self._start + offset)
        return index - self._start if index >= 0 else -1

    def search(self, pattern: re.Pattern[bytes]) -> int | None:
        """End offset (relative) of the first match of ``pattern``, or None."""
        match = pattern.search(self._data, self._start)
        return match.end() - self._start if match else None

    def take(self, size: int) -> bytes:
        """Remove and return the first ``size`` bytes."""
        with memoryview(self._data) as view:
            chunk = view[self._start : self._start + size].tobytes()
        self._advance(size)
        return chunk

    def take_into(self, target: memoryview) -> int:
        """Move as many leading bytes as fit into ``target``; return the count."""
        size = min(len(target), len(self))
        with memoryview(self._data) as view:
            target[:size] = view[self._start : self._start + size]
        self._advance(size)
        return size

    def _advance(self, size: int) -> None:
        self._start += size
        if self._start == len(self._data):
            self._data.clear()
            self._start = 0
        elif self._start > len(self._data) // 2:
            del self._data[: self._start]
            self._start = 0


class _WriteBuffer:
    """Data queued for writing, oldest first.

    Large chunks are kept as memoryviews of the caller's object (no copy);
    small ones are gathered into bytearrays.  Sending hands the operating
    system a view of the oldest chunk from an offset, so a large chunk is
    never re-sliced into new bytes objects as it drains.
    """

    __slots__ = ("_chunks", "_head_offset", "_size")

    def __init__(self) -> None:
        # Created on demand and dropped once drained: an idle stream (such
        # as a parked long-polling request) then carries no deque at all.
        self._chunks: collections.deque[bytearray | memoryview] | None = None
        self._head_offset = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, data: _Buffer) -> None:
        """Queue ``data`` (bytes, a bytearray or any contiguous memoryview).

        Code outside this module (dask's distributed) queues frames with
        this directly, followed by ``write(b"")``; its size counts in bytes
        whatever the view's format.
        """
        if isinstance(data, memoryview):
            if data.format != "B" or data.ndim != 1:
                data = data.cast("B")
            size = data.nbytes
        else:
            size = len(data)
        if not size:
            return
        chunks = self._chunks
        if chunks is None:
            chunks = self._chunks = collections.deque()
        if size > _COALESCE_LIMIT:
            chunks.append(memoryview(data))  # our own view, released by clear()
        else:
            tail = chunks[-1] if chunks else None
            if isinstance(tail, bytearray) and len(tail) < _COALESCE_LIMIT:
                tail += data
            else:
                chunks.append(bytearray(data))
        self._size += size

    def clear(self) -> None:
        """Drop everything queued, releasing the views into callers' buffers.

        A caller's bytearray can then be resized again at once, without
        waiting for the garbage collector.
        """
        chunks, self._chunks = self._chunks, None
        self._head_offset = self._size = 0
        for chunk in chunks or ():
            if isinstance(chunk, memoryview):
                chunk.release()

    def send_head(self, send: Callable[[memoryview], int]) -> int:
        """Offer the oldest unsent bytes to ``send``; drop what it reports sent."""
        assert self._chunks is not None
        with memoryview(self._chunks[0]) as whole:
            with whole[self._head_offset :] as pending:
                sent = send(pending)
        self._advance(sent)
        return sent

    def _advance(self, size: int) -> None:
        assert self._chunks is not None
        self._size -= size
        self._head_offset += size
        if not self._size:
            self.clear()
            return
        while self._head_offset >= len(self._chunks[0]):
            done = self._chunks.popleft()
            self._head_offset -= len(done)
            if isinstance(done, memoryview):
                done.release()


class _Read:
    """One outstanding read: when it can complete, and what it produces."""

    #: Resolved with the read's result; set when the stream starts the read.
    future: Future[Any]
    #: Whether an `UnsatisfiableReadError` fails only this read, leaving the
    #: stream open (for a caller that answers it), instead of closing it.
    keeps_stream_on_limit = False
    #: Whether starting the read tries the descriptor at once; if not, data
    #: not yet buffered is left for the loop to report.
    reads_inline = True

    def ready(self, buffer: _ReadBuffer) -> int | None:
        """How many buffered bytes complete this read, or None to keep waiting.

        Raises `UnsatisfiableReadError` when the read can never complete.
        """
        raise NotImplementedError()

    def poll(self, buffer: _ReadBuffer) -> int | None:
        """Like `ready`, between reads of a burst; may skip costly checks.

        A skipped check is caught up by the `ready` call after the burst.
        """
        return self.ready(buffer)

    def ready_at_close(self, buffer: _ReadBuffer, failed: bool) -> int | None:
        """Like `ready`, for a stream that will receive nothing more.

        ``failed`` tells whether an error closes the stream.
        """
        try:
            return self.ready(buffer)
        except UnsatisfiableReadError:
            return None

    def direct_target(self) -> memoryview | None:
        """Caller-owned memory to receive data directly, if the read has any."""
        return None

    def result(self, buffer: _ReadBuffer, size: int) -> Any:
        """Take the completed read's value out of ``buffer``."""
        return buffer.take(size)


class _MaxBytesRead(_Read):
    """A read that gives up once ``max_bytes`` arrive without a match."""

    def __init__(self, max_bytes: int | None) -> None:
        self.max_bytes = max_bytes

    def _within_limit(self, size: int) -> None:
        if self.max_bytes is not None and size > self.max_bytes:
            raise UnsatisfiableReadError(
                f"{self._looking_for()} not found within {self.max_bytes} bytes"
            )

    def _looking_for(self) -> str:
        """What the read waits for, for error messages (built only if needed)."""
        raise NotImplementedError()

    def _match_end(self, buffer: _ReadBuffer) -> int | None:
        raise NotImplementedError()

    def ready(self, buffer: _ReadBuffer) -> int | None:
        end = self._match_end(buffer)
        self._within_limit(len(buffer) if end is None else end)
        return end


class _DelimiterRead(_MaxBytesRead):
    def __init__(self, delimiter: bytes, max_bytes: int | None) -> None:
        super().__init__(max_bytes)
        self.delimiter = delimiter
        # Bytes already searched without a match; the next search resumes
        # there, so a delimiter arriving in many pieces costs linear time.
        self._searched = 0

    def _looking_for(self) -> str:
        return f"delimiter {self.delimiter!r}"

    def _match_end(self, buffer: _ReadBuffer) -> int | None:
        index = buffer.find(self.delimiter, self._searched)
        if index < 0:
            self._searched = max(0, len(buffer) - len(self.delimiter) + 1)
            return None
        return index + len(self.delimiter)


class _RegexRead(_MaxBytesRead):
    def __init__(self, pattern: re.Pattern[bytes], max_bytes: int | None) -> None:
        super().__init__(max_bytes)
        self.pattern = pattern
        self._next_poll = 0

    def _looking_for(self) -> str:
        return f"pattern {self.pattern.pattern!r}"

    def _match_end(self, buffer: _ReadBuffer) -> int | None:
        return buffer.search(self.pattern)

    def poll(self, buffer: _ReadBuffer) -> int | None:
        # A search scans the whole buffer, so within a burst of reads search
        # again only once the buffer has doubled: linear, not quadratic.
        if len(buffer) < self._next_poll:
            return None
        self._next_poll = 2 * len(buffer)
        return self.ready(buffer)


class _BytesRead(_Read):
    def __init__(self, num_bytes: int, partial: bool) -> None:
        self.num_bytes = num_bytes
        self.partial = partial

    def ready(self, buffer: _ReadBuffer) -> int | None:
        available = len(buffer)
        if available >= self.num_bytes:
            return self.num_bytes
        if self.partial and available:
            return available
        return None


class _IntoRead(_Read):
    """Fills a caller's buffer; data goes straight into it after the first copy."""

    def __init__(self, target: memoryview, partial: bool) -> None:
        self.target = target
        self.partial = partial
        self.filled = 0

    def ready(self, buffer: _ReadBuffer) -> int | None:
        if self.filled == len(self.target) or (self.partial and self.filled):
            return self.filled
        return None

    def direct_target(self) -> memoryview | None:
        return self.target[self.filled :]

    def result(self, buffer: _ReadBuffer, size: int) -> Any:
        self.target.release()
        return self.filled


class _ChunkRead(_Read):
    """Hands each batch of received data to a consumer, as soon as it arrives.

    Unlike the other reads it spans many arrivals: it stays pending while
    the consumer asks for more, and its future resolves only when the
    consumer declines (or fails, or the stream closes).  The consumer runs
    inside the stream's event handling, so data is dealt with without a
    trip through the event loop for each batch.
    """

    def __init__(self, consumer: Callable[[bytes], bool]) -> None:
        self.consumer = consumer
        # The consumer sees the context variables of the code that started
        # the read, as code awaiting a plain read would.
        self.context = contextvars.copy_context()

    def ready(self, buffer: _ReadBuffer) -> int | None:
        return len(buffer) or None


class _UntilCloseRead(_Read):
    def ready(self, buffer: _ReadBuffer) -> int | None:
        return None

    def ready_at_close(self, buffer: _ReadBuffer, failed: bool) -> int | None:
        # Only a clean end of the stream completes it: after an error, what
        # arrived is not "everything until the close".
        return None if failed else len(buffer)


class _Scratch(threading.local):
    """Memory that streams receive into before copying to their read buffer.

    One per thread (each runs at most one IOLoop, and a read never runs
    inside another): a fresh ``read_chunk_size`` buffer for every attempt
    would cost far more than the copy, even when nothing is there to read.
    """

    view = memoryview(bytearray())


_scratch = _Scratch()


def _scratch_buffer(size: int) -> memoryview:
    """This thread's scratch memory, ``size`` bytes of it."""
    if len(_scratch.view) < size:
        _scratch.view = memoryview(bytearray(size))
    return _scratch.view[:size]


def _check_max_bytes(max_bytes: int | None) -> None:
    if max_bytes is not None and (
        not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0
    ):
        raise ValueError(f"max_bytes must be a non-negative int or None: {max_bytes!r}")


def _writable_bytes_view(buf: Any) -> memoryview:
    try:
        view = memoryview(buf)
    except TypeError:
        raise TypeError(
            f"read_into() needs a writable buffer such as a bytearray, "
            f"not {type(buf).__name__}"
        )
    if view.readonly:
        view.release()
        raise TypeError(f"read_into() needs a writable buffer, {buf!r} is read-only")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


class BaseIOStream:
    """The buffering and event handling shared by all streams.

    Subclasses implement the low-level operations on their file descriptor:
    `fileno`, `close_fd`, `read_from_fd`, `write_to_fd` and optionally
    `get_fd_error`.  Everything else is here.

    ``max_buffer_size`` caps the bytes held in the read buffer (100 MiB by
    default): a stream that receives more than that while no read consumes
    it is closed with `StreamBufferFullError`.  ``read_chunk_size`` is how
    much is read from the descriptor at a time (64 KiB, but at most half of
    ``max_buffer_size``).  ``max_write_buffer_size``, when given, makes
    `write` raise `StreamBufferFullError` instead of queueing more than that.

    All methods must be called from the thread of the `.IOLoop` that was
    current when the stream was created.
    """

    def __init__(
        self,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
        max_write_buffer_size: int | None = None,
    ) -> None:
        #: The `.IOLoop` this stream is registered with.
        self.io_loop = ioloop.IOLoop.current()
        #: The most bytes the read buffer may hold.
        self.max_buffer_size = max_buffer_size or _DEFAULT_MAX_BUFFER_SIZE
        #: How many bytes to ask the descriptor for at a time.
        self.read_chunk_size = min(
            read_chunk_size or _DEFAULT_READ_CHUNK_SIZE, self.max_buffer_size // 2
        )
        #: The most bytes that may wait in the write buffer, or ``None``.
        self.max_write_buffer_size = max_write_buffer_size
        #: The exception that closed the stream, if one did.
        self.error: BaseException | None = None
        self._read_buffer = _ReadBuffer()
        self._pending_read: _Read | None = None
        self._write_buffer = _WriteBuffer()
        # Bytes ever queued and ever sent. The first is named as in Tornado
        # 6.6, whose users (dask's distributed) queue frames themselves:
        # ``_write_buffer.append(frame)``, ``_total_write_index +=
        # len(frame)``, then ``write(b"")`` sends them all.
        self._total_write_index = 0
        self._bytes_written = 0
        # (bytes queued when written, future); created on demand, dropped
        # when empty, to keep idle streams small.
        self._write_futures: collections.deque[tuple[int, Future[None]]] | None = None
        self._close_callback: Callable[[], None] | None = None
        self._connect_future: Future[Any] | None = None
        self._ssl_connect_future: Future[Any] | None = None
        self._connecting = False
        self._state: int | None = None
        self._closed = False

    # -- the file descriptor, provided by subclasses --------------------------

    def fileno(self) -> int | ioloop._Selectable:
        """The file descriptor (or object with ``fileno()``) of this stream."""
        raise NotImplementedError()

    def close_fd(self) -> None:
        """Close the underlying descriptor; called once, by `close`."""
        raise NotImplementedError()

    def write_to_fd(self, data: memoryview) -> int:
        """Write as much of ``data`` as the descriptor takes; return the count.

        Raises `BlockingIOError` (or returns 0) when nothing can be written.
        """
        raise NotImplementedError()

    def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
        """Read up to ``len(buf)`` bytes into ``buf``; return the count.

        Returns ``None`` when nothing is available yet and 0 at the end of
        the stream.
        """
        raise NotImplementedError()

    def get_fd_error(self) -> Exception | None:
        """The error pending on the descriptor after an error event, if known."""
        return None

    # -- reading ---------------------------------------------------------------

    def read_until_regex(
        self, regex: bytes | re.Pattern[bytes], max_bytes: int | None = None
    ) -> Awaitable[bytes]:
        """Read until ``regex`` matches; resolve with the data up to the match end.

        ``regex`` is a bytes pattern or a compiled bytes pattern.  With
        ``max_bytes``, a match must end within that many bytes; otherwise
        the stream is closed (the future fails with `StreamClosedError`
        whose ``real_error`` is an `UnsatisfiableReadError`).
        """
        pattern = re.compile(regex)
        if not isinstance(pattern.pattern, bytes):
            raise TypeError(f"read_until_regex() needs a bytes pattern, not {regex!r}")
        _check_max_bytes(max_bytes)
        return self._read(_RegexRead(pattern, max_bytes))

    def _read_until_regex_within(
        self, pattern: re.Pattern[bytes], max_bytes: int
    ) -> Awaitable[bytes]:
        """Like `read_until_regex`, but exceeding ``max_bytes`` keeps the stream.

        The future then fails with `UnsatisfiableReadError` itself and the
        stream stays open, so the caller can still write an answer (an HTTP
        server's ``431``) before closing it.  Data not yet buffered is left
        for the loop to report: an HTTP server reads the next request just
        after answering one, when the client can't have sent it yet, so
        trying the socket at once would almost always be a wasted call.
        """
        request = _RegexRead(pattern, max_bytes)
        request.keeps_stream_on_limit = True
        request.reads_inline = False
        return self._read(request)

    def read_until(
        self, delimiter: bytes, max_bytes: int | None = None
    ) -> Awaitable[bytes]:
        """Read until ``delimiter``; resolve with the data including it.

        With ``max_bytes``, the delimiter must end within that many bytes;
        otherwise the stream is closed (the future fails with
        `StreamClosedError` whose ``real_error`` is an
        `UnsatisfiableReadError`).
        """
        if not isinstance(delimiter, (bytes, bytearray)):
            raise TypeError(
                f"read_until() delimiter must be bytes, not {type(delimiter).__name__}"
            )
        if not delimiter:
            raise ValueError("read_until() delimiter must not be empty")
        _check_max_bytes(max_bytes)
        return self._read(_DelimiterRead(bytes(delimiter), max_bytes))

    def read_bytes(self, num_bytes: int, partial: bool = False) -> Awaitable[bytes]:
        """Read ``num_bytes`` bytes.

        With ``partial=True`` the read completes as soon as any data is
        available, with at most ``num_bytes`` bytes.
        """
        if not isinstance(num_bytes, int) or isinstance(num_bytes, bool):
            raise TypeError(
                f"read_bytes() num_bytes must be an int, not {type(num_bytes).__name__}"
            )
        if num_bytes < 0:
            raise ValueError(
                f"read_bytes() num_bytes must not be negative: {num_bytes}"
            )
        return self._read(_BytesRead(num_bytes, partial))

    def read_into(self, buf: bytearray, partial: bool = False) -> Awaitable[int]:
        """Read into the writable buffer ``buf``; resolve with the bytes read.

        The read fills ``buf`` completely, or with ``partial=True`` completes
        as soon as any data has been stored.  ``buf`` must not be touched
        until the future resolves.
        """
        request = _IntoRead(_writable_bytes_view(buf), partial)
        self._begin_read(request)
        request.filled = self._read_buffer.take_into(request.target)
        return self._read(request, begun=True)

    def read_until_close(self) -> Awaitable[bytes]:
        """Read everything until the stream closes; resolve with all of it.

        Data is held in memory, so the total is bounded by
        ``max_buffer_size``.  A close caused by an error (``close(exc_info=
        ...)``, a full buffer) fails the read with `StreamClosedError`, whose
        ``real_error`` is that error; a connection reset by the peer ends it
        like a clean close.
        """
        request = _UntilCloseRead()
        future = self._begin_read(request)
        if self.closed():
            self._finish_read(len(self._read_buffer))
            return future
        return self._read(request, begun=True)

    #: Whether input may wait in a layer above the descriptor (as in TLS),
    #: where no event announces it.
    _holds_unseen_input = False

    def _read_chunks(self, consumer: Callable[[bytes], bool]) -> Future[None]:
        """Call ``consumer`` with the data received, batch by batch.

        ``consumer`` is called with each batch of bytes as it arrives
        (possibly at once, with data already buffered) and returns whether
        it wants more.  The future resolves once it returns false, fails
        with the exception it raises, or with `StreamClosedError` when the
        stream closes while it still wants more.  Like any read, it excludes
        other reads while pending.  For protocols decoding a stream of
        messages, this spares a future and an event loop iteration for
        every read.
        """
        return self._read(_ChunkRead(consumer))

    def reading(self) -> bool:
        """Whether a read is in progress."""
        return self._pending_read is not None

    def _begin_read(self, request: _Read) -> Future[Any]:
        if self._pending_read is not None:
            # A read left pending by a close is reported as the close.
            self._check_closed()
            raise AssertionError("Already reading")
        request.future = Future()
        self._pending_read = request
        return request.future

    def _read(self, request: _Read, begun: bool = False) -> Future[Any]:
        future = request.future if begun else self._begin_read(request)
        try:
            self._try_inline_read()
        except UnsatisfiableReadError as e:
            self._handle_unsatisfiable(e)
        except BaseException:
            # Raised to the caller: the read is abandoned, not left pending.
            if self._pending_read is request:
                self._pending_read = None
            raise
        return future

    def _try_inline_read(self) -> None:
        """Complete the pending read now if possible, else wait for data."""
        # A chunk read may still be pending after it was given data.
        size = self._ready_size()
        if size is not None:
            self._finish_read(size)
            if self._pending_read is None:
                return
        self._check_closed()
        assert self._pending_read is not None
        if not self._connecting and self._pending_read.reads_inline:
            size = self._fill_read_buffer()
            if size is not None:
                self._finish_read(size)
                if not self.reading():  # completed (a method: mypy narrows fields)
                    return
        self._add_io_state(ioloop.IOLoop.READ)

    def _ready_size(self) -> int | None:
        if self._pending_read is None:
            return None
        return self._pending_read.ready(self._read_buffer)

    def _fill_read_buffer(self) -> int | None:
        """Read until the pending read can complete or nothing more is there.

        Returns the size that completes the pending read, if it can.  With no
        read pending, one chunk is read (enough to notice a closed peer).
        """
        while not self.closed():
            if self._read_to_buffer() == 0 or self._pending_read is None:
                break
            size = self._pending_read.poll(self._read_buffer)
            if size is not None:
                return size
        return self._ready_size()

    def _read_to_buffer(self) -> int:
        """Read once from the descriptor; return the byte count (0: none/closed)."""
        target = self._pending_read.direct_target() if self._pending_read else None
        chunk = _scratch_buffer(self.read_chunk_size) if target is None else target
        try:
            count = self.read_from_fd(chunk)
        except OSError as e:
            self.close(exc_info=e)
            if self._is_connreset(e):
                # Peers vanish all the time; the error stays on self.error.
                return 0
            raise
        if count is None:
            return 0
        if count == 0:
            self.close()
            return 0
        if target is not None:
            cast(_IntoRead, self._pending_read).filled += count
        else:
            self._read_buffer.append(chunk[:count])  # copied out of the scratch
            self._check_read_buffer_size()
        return count

    def _check_read_buffer_size(self) -> None:
        if len(self._read_buffer) > self.max_buffer_size:
            gen_log.error("Reached maximum read buffer size")
            error = StreamBufferFullError("Reached maximum read buffer size")
            self.close(exc_info=error)
            raise error

    def _handle_read(self) -> None:
        while True:
            try:
                size = self._fill_read_buffer()
            except UnsatisfiableReadError:
                raise
            except Exception as e:
                # A full buffer was logged (at ERROR) and closed the stream
                # already; like any read failure it is reported here too.
                gen_log.warning("error on read: %s", e)
                self.close(exc_info=e)
                return
            if size is None:
                return
            self._finish_read(size)
            # A chunk read goes on, but the descriptor may not signal what
            # its layer (TLS) holds already.
            if not (
                self._holds_unseen_input and isinstance(self._pending_read, _ChunkRead)
            ):
                return

    def _finish_read(self, size: int) -> None:
        request = self._pending_read
        assert request is not None
        self._pending_read = None
        if isinstance(request, _ChunkRead):
            self._deliver_chunk(request, size)
        else:
            future_set_result_unless_cancelled(
                request.future, request.result(self._read_buffer, size)
            )
        self._maybe_add_error_listener()

    def _deliver_chunk(self, request: _ChunkRead, size: int) -> None:
        """Give ``size`` buffered bytes to a chunk read's consumer."""
        future = request.future
        if future.done():
            return  # cancelled: whoever waited is gone
        data = self._read_buffer.take(size)
        # Not pending while the consumer runs: if it closes the stream, the
        # close must not settle this read behind its back.
        try:
            wants_more = request.context.run(request.consumer, data)
        except Exception as e:
            if not future.done():
                future.set_exception(e)
            return
        if future.done():
            return
        if not wants_more:
            future.set_result(None)
        elif self._closed:
            future.set_exception(StreamClosedError(real_error=self.error))
            _mark_exception_retrieved(future)
        else:
            self._pending_read = request

    # -- writing ---------------------------------------------------------------

    def write(self, data: _Buffer) -> Future[None]:
        """Queue ``data`` for writing; the future resolves once it is all sent.

        Writes are sent in order.  Data given as a memoryview (or larger than
        a few KiB) is not copied, so it must not be modified before the
        future resolves.  Raises `StreamClosedError` if the stream is closed
        and `StreamBufferFullError` if ``max_write_buffer_size`` would be
        exceeded.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"write() needs bytes, bytearray or memoryview, "
                f"not {type(data).__name__}"
            )
        self._check_closed()
        if isinstance(data, memoryview) and (data.format != "B" or data.ndim != 1):
            data = data.cast("B")
        limit = self.max_write_buffer_size
        if limit is not None and len(self._write_buffer) + len(data) > limit:
            raise StreamBufferFullError("Reached maximum write buffer size")
        if data and self._idle_for_writing():
            data = self._send_directly(data)
            if not data:
                return self._written_future()
        if data:
            self._write_buffer.append(data)
            self._total_write_index += len(data)
        # Callers often ignore write futures; a failure is then not an error
        # (_signal_closed, the only place failing them, marks it retrieved).
        future: Future[None] = Future()
        if self._write_futures is None:
            self._write_futures = collections.deque()
        self._write_futures.append((self._total_write_index, future))
        if not self._connecting:
            self._handle_write()
            if self._write_buffer:
                self._add_io_state(ioloop.IOLoop.WRITE)
            self._maybe_add_error_listener()
        return future

    def writing(self) -> bool:
        """Whether data is waiting to be written."""
        return bool(self._write_buffer)

    def _idle_for_writing(self) -> bool:
        """Whether a write may be sent at once: nothing queued or in the way."""
        return (
            not self._write_buffer
            and self._write_futures is None
            and not self._connecting
        )

    def _send_directly(self, data: _Buffer) -> _Buffer:
        """Send what the descriptor takes of ``data`` now; return the rest.

        The common case of a small write to an idle stream then needs no
        queueing.  What is returned (empty if all was sent, or if an error
        closed the stream) is for the caller to queue.
        """
        with memoryview(data) as view:
            sent = self._attempt_send(self.write_to_fd, view)
        if sent is None:
            return b""
        self._total_write_index += sent
        self._bytes_written += sent
        # A view of the rest, as a queued write is not copied either.
        return memoryview(data)[sent:] if sent else data

    def _written_future(self) -> Future[None]:
        """The future of a write sent in full at once (or lost to a close)."""
        future: Future[None] = Future()
        if self._closed:
            future.set_exception(StreamClosedError(real_error=self.error))
            _mark_exception_retrieved(future)
        else:
            future.set_result(None)
            self._maybe_add_error_listener()
        return future

    def _attempt_send(self, send: Callable[[Any], int], argument: Any) -> int | None:
        """Call ``send(argument)``; bytes sent, or ``None`` if the stream closed.

        Would-block counts as nothing sent; other errors close the stream
        (logged unless the peer merely dropped the connection).
        """
        try:
            return send(argument)
        except BlockingIOError:
            return 0
        except OSError as e:
            if not self._is_connreset(e):
                gen_log.warning("Write error on %s: %s", self.fileno(), e)
            self.close(exc_info=e)
            return None

    def _handle_write(self) -> None:
        while self._write_buffer:
            sent = self._attempt_send(self._write_buffer.send_head, self.write_to_fd)
            if sent is None:
                return
            if not sent:
                break
            self._bytes_written += sent
        futures = self._write_futures
        if futures is None:
            return
        while futures and futures[0][0] <= self._bytes_written:
            future_set_result_unless_cancelled(futures.popleft()[1], None)
        if not futures:
            self._write_futures = None

    # -- closing -----------------------------------------------------------------

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (with no arguments) once the stream closes.

        Pending futures fail with `StreamClosedError` on close anyway; the
        callback is for noticing a close while no read or write is pending.
        """
        self._close_callback = callback
        self._maybe_add_error_listener()

    def close(
        self,
        exc_info: (
            None | bool | BaseException | tuple[Any, BaseException | None, Any]
        ) = False,
    ) -> None:
        """Close the stream.

        ``exc_info`` records why: an exception, an ``exc_info`` triple, or
        true to use the exception being handled.  It becomes `error`.
        A pending read that the buffered data can complete still completes;
        other pending futures fail with `StreamClosedError`.
        """
        if not self._closed:
            if exc_info:
                self.error = _exception_from(exc_info) or self.error
            if not isinstance(self.error, StreamBufferFullError):
                self._settle_pending_read()
            if self._state is not None:
                self.io_loop.remove_handler(self.fileno())
                self._state = None
            self.close_fd()
            self._closed = True
        self._signal_closed()

    def closed(self) -> bool:
        """Whether the stream is closed."""
        return self._closed

    def _settle_pending_read(self) -> None:
        if self._pending_read is not None:
            # A peer that resets the connection has still ended the stream
            # (servers do so when closing with unread input).
            failed = self.error is not None and not self._is_connreset(self.error)
            size = self._pending_read.ready_at_close(self._read_buffer, failed)
            if size is not None:
                self._finish_read(size)

    def _signal_closed(self) -> None:
        futures: list[Future[Any]] = [future for _, future in self._write_futures or ()]
        self._write_futures = None
        if self._pending_read is not None:
            futures.append(self._pending_read.future)
            self._pending_read = None
        if self._connect_future is not None:
            futures.append(self._connect_future)
            self._connect_future = None
        for future in futures:
            if not future.done():
                future.set_exception(StreamClosedError(real_error=self.error))
            _mark_exception_retrieved(future)
        if self._ssl_connect_future is not None:
            # Handshake waiters see the real cause (typically an ssl.SSLError).
            future, self._ssl_connect_future = self._ssl_connect_future, None
            if not future.done():
                future.set_exception(self.error or StreamClosedError())
            _mark_exception_retrieved(future)
        if self._close_callback is not None:
            callback, self._close_callback = self._close_callback, None
            self.io_loop.add_callback(callback)
        # In place: code holding the buffer (see __init__) must see it empty.
        self._write_buffer.clear()

    def _check_closed(self) -> None:
        if self._closed:
            raise StreamClosedError(real_error=self.error)

    def _is_connreset(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the peer dropped the connection."""
        return (
            isinstance(exc, OSError) and errno_from_exception(exc) in _ERRNO_CONNRESET
        )

    def set_nodelay(self, value: bool) -> None:
        """Turn Nagle's algorithm off (true) or back on, where that applies.

        With no delay, small writes go out at once instead of being held
        back to be combined; useful for latency-sensitive protocols.
        Streams that are not TCP sockets ignore this.
        """

    # -- event loop registration -------------------------------------------------

    def _handle_events(self, fd: Any, events: int) -> None:
        if self.closed():
            gen_log.warning("Got events for closed stream %s", fd)
            return
        try:
            self._dispatch_events(events)
        except UnsatisfiableReadError as e:
            self._handle_unsatisfiable(e)
        except Exception as e:
            gen_log.error("Uncaught exception, closing connection.", exc_info=True)
            self.close(exc_info=e)

    def _handle_unsatisfiable(self, error: UnsatisfiableReadError) -> None:
        """Fail the pending read that can never complete (see `_Read`)."""
        request = self._pending_read
        if request is not None and request.keeps_stream_on_limit:
            self._pending_read = None
            request.future.set_exception(error)
            return
        gen_log.info("Unsatisfiable read, closing connection: %s", error)
        self.close(exc_info=error)

    def _dispatch_events(self, events: int) -> None:
        if self._connecting:
            self._handle_connect()
        if not self.closed() and events & ioloop.IOLoop.READ:
            self._handle_read()
        if not self.closed() and events & ioloop.IOLoop.WRITE:
            self._handle_write()
        if self.closed():
            return
        if events & ioloop.IOLoop.ERROR:
            self.error = self.get_fd_error()
            # Let any pending reads and writes run before closing.
            self.io_loop.add_callback(self.close)
            return
        self._update_io_state()

    def _update_io_state(self) -> None:
        state = ioloop.IOLoop.ERROR
        if self.reading():
            state |= ioloop.IOLoop.READ
        if self.writing():
            state |= ioloop.IOLoop.WRITE
        if state == ioloop.IOLoop.ERROR and not self._read_buffer:
            # Idle: keep listening so that a peer closing is noticed.
            state |= ioloop.IOLoop.READ
        if self._state is not None and state != self._state:
            self._state = state
            self.io_loop.update_handler(self.fileno(), state)

    def _add_io_state(self, state: int) -> None:
        if self.closed():
            return
        if self._state is None:
            self._state = ioloop.IOLoop.ERROR | state
            self.io_loop.add_handler(self.fileno(), self._handle_events, self._state)
        elif not self._state & state:
            self._state |= state
            self.io_loop.update_handler(self.fileno(), self._state)

    def _maybe_add_error_listener(self) -> None:
        # Listening for reads is how a close by the peer is noticed, but a
        # fresh stream is about to read or write anyway, so this is deferred
        # until the stream goes idle with someone waiting for the close.
        if self._state is None or self._state == ioloop.IOLoop.ERROR:
            if (
                not self.closed()
                and not self._read_buffer
                and self._close_callback is not None
            ):
                self._add_io_state(ioloop.IOLoop.READ)

    def _handle_connect(self) -> None:
        raise NotImplementedError()


def _close_if_cancelled(stream: BaseIOStream, future: Future[Any]) -> None:
    """Close ``stream`` whose handshake nobody waits for any more."""
    if future.cancelled():
        stream.close()


def _mark_exception_retrieved(future: Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _exception_from(
    exc_info: bool | BaseException | tuple[Any, BaseException | None, Any],
) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1]
    return sys.exc_info()[1]


class IOStream(BaseIOStream):
    """A stream over a non-blocking socket.

    ``socket`` is a connected socket, or an unconnected one to be connected
    with `connect`; it is switched to non-blocking mode.  Further arguments
    are those of `BaseIOStream`.  A server typically gets its streams from
    `.TCPServer`, and a client from `.TCPClient.connect`.
    """

    def __init__(self, socket: socket.socket, *args: Any, **kwargs: Any) -> None:
        #: The socket this stream reads and writes.
        self.socket = socket
        self.socket.setblocking(False)
        super().__init__(*args, **kwargs)

    def fileno(self) -> int | ioloop._Selectable:
        """The stream's socket."""
        return self.socket

    def close_fd(self) -> None:
        """Close the socket."""
        self.socket.close()

    def get_fd_error(self) -> Exception | None:
        """The error recorded on the socket (``SO_ERROR``)."""
        code = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return OSError(code, os.strerror(code))

    def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
        """Receive into ``buf``; ``None`` if nothing is available yet."""
        try:
            return self.socket.recv_into(buf, len(buf))
        except BlockingIOError:
            return None

    def write_to_fd(self, data: memoryview) -> int:
        """Send as much of ``data`` as the socket takes."""
        return self.socket.send(data)

    def connect(
        self: _IOStreamT, address: Any, server_hostname: str | None = None
    ) -> Future[_IOStreamT]:
        """Connect the (unconnected) socket to ``address``.

        ``address`` is what `socket.socket.connect` takes for the socket's
        family.  The future resolves with this stream once connected, or
        fails with `StreamClosedError` (whose ``real_error`` says why, e.g.
        `ConnectionRefusedError`).  Reads and writes may be issued before
        the connection completes; they wait for it.  ``server_hostname`` is
        only used by `SSLIOStream`.
        """
        self._connecting = True
        future: Future[_IOStreamT] = Future()
        self._connect_future = future
        try:
            self.socket.connect(address)
        except BlockingIOError:
            pass  # expected: a non-blocking connect completes later
        except OSError as e:
            # Some errors (e.g. a refused connection to localhost on some
            # systems) are reported at once rather than by the event loop.
            self.close(exc_info=e)
            return future
        self._add_io_state(ioloop.IOLoop.WRITE)
        return future

    def _handle_connect(self) -> None:
        try:
            code = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError as e:
            # Some systems do not support SO_ERROR on loopback sockets
            # because they report errors synchronously.
            if errno_from_exception(e) != errno.ENOPROTOOPT:
                raise
            code = 0
        if code != 0:
            self.error = OSError(code, os.strerror(code))
            if self._connect_future is None:
                gen_log.warning(
                    "Connect error on fd %s: %s",
                    self.socket.fileno(),
                    errno.errorcode.get(code, code),
                )
            self.close()
            return
        self._connecting = False
        if self._connect_future is not None:
            future, self._connect_future = self._connect_future, None
            future_set_result_unless_cancelled(future, self)

    def start_tls(
        self,
        server_side: bool,
        ssl_options: _SSLOptions | None = None,
        server_hostname: str | None = None,
    ) -> Awaitable[SSLIOStream]:
        """Upgrade this connection to TLS; resolve with the new `SSLIOStream`.

        The stream must be idle (no pending reads or writes, nothing
        buffered) and is unusable afterwards: use the returned stream.
        ``ssl_options`` is an `ssl.SSLContext` or a dictionary of
        `ssl.SSLContext.wrap_socket` options; by default a client verifies
        the server's certificate against the system CAs.  A client should
        pass ``server_hostname`` so the certificate's host name can be
        checked.  The future fails with the TLS error if the handshake does.
        Cancelling it abandons the handshake and closes the connection.
        """
        if (
            self._pending_read is not None
            or self._write_futures
            or self._connect_future is not None
            or self._closed
            or self._read_buffer
            or self._write_buffer
        ):
            raise ValueError("IOStream is not idle; cannot convert to SSL")
        if ssl_options is None:
            ssl_options = _server_ssl_defaults if server_side else _client_ssl_defaults
        plain = self.socket
        close_callback = self._close_callback
        self._detach()
        try:
            tls_socket = ssl_wrap_socket(
                plain,
                ssl_options,
                server_hostname=server_hostname,
                server_side=server_side,
                do_handshake_on_connect=False,
            )
        except BaseException:
            plain.close()  # no stream owns it any more
            raise
        future: Future[SSLIOStream] = Future()
        tls_stream = SSLIOStream(
            tls_socket,
            ssl_options=ssl_options,
            max_buffer_size=self.max_buffer_size,
            read_chunk_size=self.read_chunk_size,
            max_write_buffer_size=self.max_write_buffer_size,
        )
        tls_stream._ssl_connect_future = future
        tls_stream.set_close_callback(close_callback)
        future.add_done_callback(functools.partial(_close_if_cancelled, tls_stream))
        return future

    def _detach(self) -> None:
        """Give up the socket to another stream without closing it."""
        if self._state is not None:
            self.io_loop.remove_handler(self.socket)
            self._state = None
        self._close_callback = None
        self._closed = True

    def set_nodelay(self, value: bool) -> None:
        """Set ``TCP_NODELAY`` on TCP sockets (see `BaseIOStream.set_nodelay`)."""
        if self.closed() or self.socket.family not in (
            socket.AF_INET,
            socket.AF_INET6,
        ):
            return
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(value))
        except OSError as e:
            # A socket closed at the wrong moment refuses the option; harmless.
            if e.errno != errno.EINVAL and not self._is_connreset(e):
                raise


class SSLIOStream(IOStream):
    """A stream over a TLS socket.

    The socket may be an `ssl.SSLSocket` made with
    ``do_handshake_on_connect=False`` (as `.TCPServer` and `IOStream.start_tls`
    do), or a plain unconnected socket that `connect` wraps.  The handshake
    runs in the background; reads and writes wait for it.  The keyword
    argument ``ssl_options`` (an `ssl.SSLContext` or a dictionary) configures
    the client side of `connect`; it defaults to verifying the server with
    the system CAs.
    """

    socket: ssl.SSLSocket

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._ssl_options: _SSLOptions = kwargs.pop("ssl_options", _client_ssl_defaults)
        super().__init__(*args, **kwargs)
        self._ssl_accepting = True
        self._handshake_reading = False
        self._handshake_writing = False
        self._server_hostname: str | None = None
        try:
            self.socket.getpeername()
        except OSError:
            pass  # not connected yet; connect() starts the handshake
        else:
            # Connected: the handshake begins on the next loop iteration.
            self._add_io_state(ioloop.IOLoop.WRITE)

    def reading(self) -> bool:
        """Whether a read, or the handshake, is waiting for data."""
        return self._handshake_reading or super().reading()

    def writing(self) -> bool:
        """Whether data, or the handshake, is waiting to be written."""
        return self._handshake_writing or super().writing()

    #: TLS may have read ahead (data or the close) with no event to come.
    _holds_unseen_input = True

    def _idle_for_writing(self) -> bool:
        # Data written during the handshake waits for it.
        return not self._ssl_accepting and super()._idle_for_writing()

    def connect(
        self: _SSLIOStreamT, address: Any, server_hostname: str | None = None
    ) -> Future[_SSLIOStreamT]:
        """Connect to ``address`` and perform the TLS handshake.

        ``server_hostname`` is sent for SNI and checked against the server's
        certificate (when the context checks host names).  The future
        resolves with this stream after the handshake, or fails with the
        connection or TLS error.
        """
        self._server_hostname = server_hostname
        # The handshake future reports any connection error as well.
        IOStream.connect(self, address).add_done_callback(_mark_exception_retrieved)
        return self.wait_for_handshake()

    def wait_for_handshake(self: _SSLIOStreamT) -> Future[_SSLIOStreamT]:
        """Resolve with this stream once the TLS handshake has completed.

        Useful on the server side, to inspect ``socket.getpeercert()``
        before reading.  Only one caller may wait at a time: a second call
        before the first resolves raises `RuntimeError`.
        """
        if self._ssl_connect_future is not None:
            raise RuntimeError("Already waiting")
        future: Future[_SSLIOStreamT] = Future()
        self._ssl_connect_future = future
        if not self._ssl_accepting:
            self._finish_ssl_connect()
        return future

    def _finish_ssl_connect(self) -> None:
        if self._ssl_connect_future is not None:
            future, self._ssl_connect_future = self._ssl_connect_future, None
            future_set_result_unless_cancelled(future, self)

    def _handle_connect(self) -> None:
        super()._handle_connect()
        if self.closed():
            return
        # Wrapping replaces the socket object, which the event loop must not
        # see while registered; re-register the TLS socket afterwards.
        self.io_loop.remove_handler(self.socket)
        state, self._state = self._state, None
        assert state is not None
        self.socket = ssl_wrap_socket(
            self.socket,
            self._ssl_options,
            server_hostname=self._server_hostname,
            server_side=False,
            do_handshake_on_connect=False,
        )
        self._add_io_state(state)

    def _do_ssl_handshake(self) -> None:
        self._handshake_reading = self._handshake_writing = False
        try:
            self.socket.do_handshake()
        except ssl.SSLError as err:
            self._handshake_failed(err)
        except OSError as err:
            # Port scanners make the handshake fail in these ways; not worth
            # a log line.
            if not (
                self._is_connreset(err)
                or errno_from_exception(err) in (0, errno.EBADF, errno.ENOTCONN)
            ):
                raise
            self.close(exc_info=err)
        except AttributeError as err:
            # A connection reset before wrapping leaves the socket unusable.
            self.close(exc_info=err)
        else:
            self._ssl_accepting = False
            self._finish_ssl_connect()

    def _handshake_failed(self, err: ssl.SSLError) -> None:
        code = err.args[0]
        if code == ssl.SSL_ERROR_WANT_READ:
            self._handshake_reading = True
        elif code == ssl.SSL_ERROR_WANT_WRITE:
            self._handshake_writing = True
        elif code in (ssl.SSL_ERROR_EOF, ssl.SSL_ERROR_ZERO_RETURN):
            self.close(exc_info=err)
        elif code in (ssl.SSL_ERROR_SSL, ssl.SSL_ERROR_SYSCALL):
            try:
                peer = self.socket.getpeername()
            except OSError:
                peer = "(not connected)"
            gen_log.warning("SSL Error on %s %s: %s", self.socket.fileno(), peer, err)
            self.close(exc_info=err)
        else:
            raise err

    def _handshaking(self) -> bool:
        """Whether the TLS handshake is still under way.

        A method, read after `_do_ssl_handshake` changed the field: mypy
        would keep the field narrowed across that call.
        """
        return self._ssl_accepting

    def _handle_read(self) -> None:
        if self._ssl_accepting:
            self._do_ssl_handshake()
            if self._handshaking() or self.closed():
                return
        super()._handle_read()

    def _handle_write(self) -> None:
        if self._ssl_accepting:
            self._do_ssl_handshake()
            if self._handshaking() or self.closed():
                return
        super()._handle_write()

    def write_to_fd(self, data: memoryview) -> int:
        """Send as much of ``data`` as TLS takes now (0 if it must wait)."""
        # Released on the way out, even when an error's traceback keeps
        # this frame: it is a view into the caller's buffer.
        with data[:_TLS_IO_LIMIT] as piece:
            try:
                return self.socket.send(piece)
            except ssl.SSLError as e:
                if e.args[0] == ssl.SSL_ERROR_WANT_WRITE:
                    return 0
                raise

    def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
        """Receive decrypted data into ``buf``; ``None`` if none is ready."""
        if self._ssl_accepting:
            return None  # nothing to read before the handshake completes
        with memoryview(buf) as view:
            try:
                return self.socket.recv_into(view[:_TLS_IO_LIMIT])
            except ssl.SSLWantReadError:
                return None
            except BlockingIOError:
                return None

    def _is_connreset(self, exc: BaseException) -> bool:
        if isinstance(exc, ssl.SSLError) and exc.args[0] == ssl.SSL_ERROR_EOF:
            return True
        return super()._is_connreset(exc)


class _TransportTLSSocket(ssl.SSLSocket):
    """A TLS transport's socket and TLS state, seen as an `ssl.SSLSocket`.

    Code written for `SSLIOStream` looks for an `ssl.SSLSocket` on
    ``stream.socket`` (``getpeercert`` for a client certificate, say); over
    an asyncio transport the TLS state is an `ssl.SSLObject` instead.  This
    view answers the TLS questions from the one and the socket questions
    from the other; it owns no descriptor (closing it does nothing).
    """

    _raw: Any
    _tls: Any

    def __new__(cls, transport: Any) -> _TransportTLSSocket:
        view = socket.socket.__new__(cls)
        view._raw = transport.get_extra_info("socket")
        view._tls = transport.get_extra_info("ssl_object")
        return view

    def __init__(self, transport: Any) -> None:
        """Made by `_TransportStream` (``SSLSocket`` has no public constructor)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} over {self._raw!r}>"

    @property
    def family(self) -> socket.AddressFamily:
        """The address family of the underlying socket."""
        return cast(socket.AddressFamily, self._raw.family)

    @property
    def type(self) -> socket.SocketKind:
        """The type of the underlying socket."""
        return cast(socket.SocketKind, self._raw.type)

    def fileno(self) -> int:
        """The underlying socket's descriptor."""
        return cast(int, self._raw.fileno())

    def getpeername(self) -> Any:
        """The peer's address."""
        return self._raw.getpeername()

    def getsockname(self) -> Any:
        """The local address."""
        return self._raw.getsockname()

    def setsockopt(self, *args: Any) -> None:
        """Set an option on the underlying socket."""
        self._raw.setsockopt(*args)

    def getsockopt(self, *args: Any) -> Any:
        """Read an option of the underlying socket."""
        return self._raw.getsockopt(*args)

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate (see `ssl.SSLSocket.getpeercert`)."""
        return self._tls.getpeercert(binary_form)

    def cipher(self) -> Any:
        """The cipher in use."""
        return self._tls.cipher()

    def version(self) -> str | None:
        """The TLS version in use."""
        return cast("str | None", self._tls.version())

    def selected_alpn_protocol(self) -> str | None:
        """The protocol chosen by ALPN, if any."""
        return cast("str | None", self._tls.selected_alpn_protocol())

    def close(self) -> None:
        """Nothing to close: the transport owns the connection."""


class _TransportStream(IOStream):
    """An `IOStream` over an asyncio transport, for a server's HTTP connection.

    An HTTP server serving from a transport makes one only when asked for
    (``request.connection.stream``, or `detach`).  While HTTP still owns the
    transport the stream is a view: writes go to the transport, `close`
    closes it and its close callback runs once the connection is lost, but
    reading is HTTP's.  Once `feed_from_transport` made it the transport's
    protocol it reads too, starting with the bytes HTTP had read ahead.
    Writes resolve at once while the transport accepts data; while the
    transport has paused writing (its buffer is over the high-water mark)
    they queue here, as a socket's writes would.
    """

    def __init__(
        self,
        transport: Any,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
    ) -> None:
        #: The transport's socket (or the loop's stand-in for it); over TLS an
        #: `ssl.SSLSocket` view of it (see `_TransportTLSSocket`).
        self.socket = (
            _TransportTLSSocket(transport)
            if transport.get_extra_info("ssl_object") is not None
            else transport.get_extra_info("socket")
        )
        BaseIOStream.__init__(self, max_buffer_size, read_chunk_size)
        self._transport = transport
        self._writing_paused = False
        self._reads_transport = False
        self._reading_paused = False

    def fileno(self) -> int | ioloop._Selectable:
        """The transport's socket (for log messages)."""
        return self.socket

    def close_fd(self) -> None:
        """Close the transport; what it still buffers is dropped if stuck."""
        if self._writing_paused:
            self._transport.abort()
        else:
            self._transport.close()

    def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
        """Nothing is read on demand: the transport delivers data itself."""
        return None

    def write_to_fd(self, data: memoryview) -> int:
        """Hand ``data`` to the transport, unless it paused writing."""
        if self._writing_paused:
            return 0
        obj = data.obj
        if isinstance(obj, bytes) and len(obj) == data.nbytes:
            self._transport.write(obj)
        else:
            self._transport.write(data.tobytes())
        return data.nbytes

    def _add_io_state(self, state: int) -> None:
        self._sync_reading()

    def _update_io_state(self) -> None:
        self._sync_reading()

    def _maybe_add_error_listener(self) -> None:
        self._sync_reading()

    def _sync_reading(self) -> None:
        """Read while a read waits, or while idle with nothing buffered."""
        if not self._reads_transport or self._closed:
            return
        wanted = self.reading() or not self._read_buffer
        if wanted == self._reading_paused:
            self._reading_paused = not wanted
            if wanted:
                self._transport.resume_reading()
            else:
                self._transport.pause_reading()

    def set_nodelay(self, value: bool) -> None:
        """Set ``TCP_NODELAY`` on the transport's socket, if it has one."""
        if self.socket is not None:
            super().set_nodelay(value)

    # -- the transport's protocol, once fed by it ------------------------------

    def feed_from_transport(self, read_ahead: bytes, writing_paused: bool) -> None:
        """Become the transport's protocol, with the bytes already read."""
        self._reads_transport = True
        self._writing_paused = writing_paused
        self._transport.set_protocol(self)
        if read_ahead:
            self.data_received(read_ahead)
        else:
            self._sync_reading()

    def connection_made(self, transport: Any) -> None:
        """Not called: the stream takes over a transport already connected."""

    def data_received(self, data: bytes) -> None:
        """Buffer ``data`` and complete the pending read if it can."""
        if self._closed:
            return
        self._read_buffer.append(data)
        request = self._pending_read
        if isinstance(request, _IntoRead):
            with request.target[request.filled :] as rest:
                request.filled += self._read_buffer.take_into(rest)
        try:
            self._check_read_buffer_size()
        except StreamBufferFullError:
            return
        while True:
            try:
                size = self._ready_size()
            except UnsatisfiableReadError as e:
                self._handle_unsatisfiable(e)
                return
            if size is None:
                break
            self._finish_read(size)
            if self.closed():
                return
        self._sync_reading()

    def eof_received(self) -> bool | None:
        """The peer stopped sending: the stream ends, as a socket's would."""
        self.close()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport is gone: close (recording ``exc``, if any)."""
        self.close(exc_info=exc or False)

    def pause_writing(self) -> None:
        """The transport's buffer is full: queue writes here."""
        self._writing_paused = True

    def resume_writing(self) -> None:
        """The transport drained: send what queued up."""
        self._writing_paused = False
        if not self._closed:
            self._handle_write()


class PipeIOStream(BaseIOStream):
    """A stream over a pipe or another non-socket file descriptor.

    ``fd`` is an integer descriptor, switched to non-blocking mode and
    closed with the stream.  Each end of a pipe needs its own stream.  Not
    available on Windows.  Further arguments are those of `BaseIOStream`.
    """

    def __init__(self, fd: int, *args: Any, **kwargs: Any) -> None:
        if sys.platform == "win32":
            raise AssertionError("PipeIOStream is not supported on Windows")
        #: The file descriptor this stream reads and writes.
        self.fd = fd
        self._fio = io.FileIO(self.fd, "r+")
        os.set_blocking(fd, False)
        super().__init__(*args, **kwargs)

    def fileno(self) -> int:
        """The stream's file descriptor."""
        return self.fd

    def close_fd(self) -> None:
        """Close the file descriptor."""
        self._fio.close()

    def write_to_fd(self, data: memoryview) -> int:
        """Write as much of ``data`` as the pipe takes."""
        return os.write(self.fd, data)

    def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
        """Read into ``buf``; ``None`` if nothing is available yet."""
        try:
            return self._fio.readinto(buf)
        except OSError as e:
            if errno_from_exception(e) == errno.EBADF:
                # Reading the write end of a pipe, or a descriptor closed
                # under us: the stream is over.
                self.close(exc_info=e)
                return None
            raise


def doctests() -> unittest.TestSuite:
    """The examples in this module's docstrings, as a test suite."""
    return doctest.DocTestSuite()
