"""Tests for tornado.iostream over TCP (IPv4 and IPv6), unix sockets, pipes and TLS."""

from __future__ import annotations

import array
import asyncio
import contextvars
import errno
import gc
import logging
import os
import re
import socket
import ssl
import struct
import sys
import tempfile
import typing
import unittest
from collections.abc import Callable
from typing import Any

from tornado.concurrent import Future
from tornado.iostream import (
    BaseIOStream,
    IOStream,
    PipeIOStream,
    SSLIOStream,
    StreamBufferFullError,
    StreamClosedError,
    UnsatisfiableReadError,
    _DelimiterRead,
    _ReadBuffer,
    _WriteBuffer,
    doctests,
)
from tornado.locks import Event
from tornado.log import gen_log
from tornado.netutil import add_accept_handler
from tornado.test.util import client_ssl_context, ipv6_available, server_ssl_context
from tornado.testing import AsyncTestCase, ExpectLog, bind_unused_port, gen_test

TEST_DIR = os.path.dirname(os.path.abspath(__file__))
CERTFILE = os.path.join(TEST_DIR, "test.crt")
KEYFILE = os.path.join(TEST_DIR, "test.key")


def load_tests(
    loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: str | None
) -> unittest.TestSuite:
    """Add the module's doctests to its unit tests."""
    tests.addTests(doctests())
    return tests


_T = typing.TypeVar("_T")


class StreamTestBase(AsyncTestCase):
    """Closes every stream and socket a test made, before the loop goes."""

    def setUp(self) -> None:
        super().setUp()
        self._to_close: list[Any] = []

    def tearDown(self) -> None:
        for resource in reversed(self._to_close):
            resource.close()
        super().tearDown()

    def track(self, resource: _T) -> _T:
        self._to_close.append(resource)
        return resource

    def listen(self, family: socket.AddressFamily, address: Any) -> socket.socket:
        """A non-blocking socket listening on ``address``."""
        listener = self.track(socket.socket(family))
        listener.bind(address)
        listener.listen(1)
        listener.setblocking(False)
        return listener

    async def accept_connection(self, listener: socket.socket) -> socket.socket:
        """The next connection made to ``listener``."""
        accepted: Future[socket.socket] = Future()
        stop = add_accept_handler(
            listener, lambda connection, address: accepted.set_result(connection)
        )
        try:
            return self.track(await accepted)
        finally:
            stop()

    async def socket_pair(
        self,
        family: socket.AddressFamily,
        address: Any,
        client_kwargs: dict[str, Any] | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> tuple[IOStream, IOStream]:
        """(client, server) IOStreams over a fresh connection to ``address``."""
        listener = self.listen(family, address)
        client = self.track(IOStream(socket.socket(family), **(client_kwargs or {})))
        connected = client.connect(listener.getsockname())
        server = self.track(
            IOStream(await self.accept_connection(listener), **(server_kwargs or {}))
        )
        await connected
        return client, server

    async def tls_pair(
        self,
        client_kwargs: dict[str, Any] | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> tuple[SSLIOStream, SSLIOStream]:
        """(client, server) SSLIOStreams with a completed, verified handshake."""
        listener = self.listen(socket.AF_INET, ("127.0.0.1", 0))
        client = self.track(
            SSLIOStream(
                socket.socket(socket.AF_INET),
                ssl_options=client_ssl_context(),
                **(client_kwargs or {}),
            )
        )
        client_handshake = client.connect(listener.getsockname(), "localhost")
        tls_connection = server_ssl_context().wrap_socket(
            await self.accept_connection(listener),
            server_side=True,
            do_handshake_on_connect=False,
        )
        server = self.track(SSLIOStream(tls_connection, **(server_kwargs or {})))
        await server.wait_for_handshake()
        await client_handshake
        return client, server


if typing.TYPE_CHECKING:
    _Base = StreamTestBase
else:
    _Base = object  # keeps the mixins below from running as tests themselves


class ReadWriteTests(_Base):
    """Reads and writes in one direction, for every kind of stream.

    Subclasses provide ``make_pair`` returning ``(writer, reader)``.
    """

    async def make_pair(
        self,
        writer_kwargs: dict[str, Any] | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> tuple[BaseIOStream, BaseIOStream]:
        raise NotImplementedError()

    @gen_test
    async def test_read_until_many_lines_in_one_write(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"one\ntwo\nthree\n")
        self.assertEqual(await reader.read_until(b"\n"), b"one\n")
        self.assertEqual(await reader.read_until(b"\n"), b"two\n")
        self.assertEqual(await reader.read_until(b"\n"), b"three\n")

    @gen_test
    async def test_read_until_delimiter_split_across_writes(self) -> None:
        writer, reader = await self.make_pair()
        line = reader.read_until(b"\r\n\r\n")
        for piece in (b"header\r", b"\n", b"\r", b"\nrest"):
            await writer.write(piece)
        self.assertEqual(await line, b"header\r\n\r\n")
        self.assertEqual(await reader.read_bytes(4), b"rest")

    @gen_test
    async def test_read_until_regex(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"abc123def456")
        self.assertEqual(await reader.read_until_regex(rb"\d+"), b"abc123")
        self.assertEqual(await reader.read_until_regex(re.compile(rb"f\d")), b"def4")
        self.assertEqual(await reader.read_bytes(2), b"56")

    @gen_test
    async def test_read_bytes(self) -> None:
        writer, reader = await self.make_pair()
        self.assertEqual(await reader.read_bytes(0), b"")
        pending = reader.read_bytes(6)
        await writer.write(b"abc")
        await writer.write(b"defgh")
        self.assertEqual(await pending, b"abcdef")
        self.assertEqual(await reader.read_bytes(2), b"gh")

    @gen_test
    async def test_read_bytes_partial(self) -> None:
        writer, reader = await self.make_pair()
        pending = reader.read_bytes(100, partial=True)
        await writer.write(b"hello")
        self.assertEqual(await pending, b"hello")
        await writer.write(b"world")
        self.assertEqual(await reader.read_bytes(3, partial=True), b"wor")
        self.assertEqual(await reader.read_bytes(3, partial=True), b"ld")

    @gen_test
    async def test_read_into(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"abcd")
        self.assertEqual(await reader.read_bytes(1), b"a")  # leaves "bcd" buffered
        buf = bytearray(6)
        pending = reader.read_into(buf)
        await writer.write(b"efghij")
        self.assertEqual(await pending, 6)
        self.assertEqual(buf, b"bcdefg")
        buf.extend(b"!")  # the stream no longer holds a view of it
        self.assertEqual(await reader.read_bytes(3), b"hij")

    @gen_test
    async def test_read_into_partial(self) -> None:
        writer, reader = await self.make_pair()
        buf = bytearray(10)
        pending = reader.read_into(buf, partial=True)
        await writer.write(b"xyz")
        self.assertEqual(await pending, 3)
        self.assertEqual(buf[:3], b"xyz")

    @gen_test
    async def test_read_until_close(self) -> None:
        writer, reader = await self.make_pair()
        pending = reader.read_until_close()
        await writer.write(b"all of ")
        await writer.write(b"this")
        writer.close()
        self.assertEqual(await pending, b"all of this")
        self.assertEqual(await reader.read_until_close(), b"")

    @gen_test
    async def test_buffered_data_readable_after_close(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"abcdef")
        self.assertEqual(await reader.read_bytes(2), b"ab")  # "cdef" stays buffered
        reader.close()
        self.assertEqual(await reader.read_bytes(4), b"cdef")
        with self.assertRaises(StreamClosedError):
            reader.read_bytes(1)
        self.assertFalse(reader.reading())

    @gen_test
    async def test_reads_after_peer_closed(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"last words")
        writer.close()
        self.assertEqual(await reader.read_bytes(4), b"last")
        self.assertEqual(await reader.read_until(b"s"), b" words")
        with self.assertRaises(StreamClosedError):
            await reader.read_bytes(1)
        self.assertTrue(reader.closed())
        self.assertEqual(await reader.read_until_close(), b"")

    @gen_test
    async def test_peer_closes_mid_read(self) -> None:
        writer, reader = await self.make_pair()
        pending = reader.read_bytes(10)
        await writer.write(b"12345")
        writer.close()
        with self.assertRaises(StreamClosedError) as caught:
            await pending
        self.assertIsNone(caught.exception.real_error)
        self.assertIsNone(reader.error)

    @gen_test
    async def test_close_callback_when_idle(self) -> None:
        writer, reader = await self.make_pair()
        closed = Event()
        reader.set_close_callback(closed.set)
        writer.close()
        await closed.wait()
        self.assertTrue(reader.closed())

    @gen_test
    async def test_large_write_and_one_huge_read(self) -> None:
        writer, reader = await self.make_pair()
        data = os.urandom(1024) * 8 * 1024  # 8 MiB
        written = writer.write(data)
        self.assertEqual(await reader.read_bytes(len(data)), data)
        await written

    @gen_test
    async def test_many_small_writes_and_reads(self) -> None:
        writer, reader = await self.make_pair()
        lines = [b"%d\n" % i for i in range(5000)]
        futures = [writer.write(line) for line in lines]
        for line in lines:
            self.assertEqual(await reader.read_until(b"\n"), line)
        for future in futures:
            await future
        self.assertTrue(all(future.done() for future in futures))

    @gen_test
    async def test_write_accepts_bytearray_and_memoryview(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(bytearray(b"ab"))
        await writer.write(memoryview(b"cd"))
        ints = array.array("i", [1, 2])
        await writer.write(memoryview(ints))
        self.assertEqual(
            await reader.read_bytes(4 + 2 * ints.itemsize), b"abcd" + ints.tobytes()
        )

    @gen_test
    async def test_write_empty(self) -> None:
        writer, reader = await self.make_pair()
        written = writer.write(b"")
        await written
        self.assertIsNone(written.result())

    @gen_test
    async def test_write_to_closed_stream(self) -> None:
        writer, reader = await self.make_pair()
        writer.close()
        with self.assertRaises(StreamClosedError):
            writer.write(b"too late")

    @gen_test
    async def test_write_rejects_text(self) -> None:
        writer, reader = await self.make_pair()
        with self.assertRaisesRegex(TypeError, "str"):
            writer.write("text")  # type: ignore[arg-type]

    @staticmethod
    def collector(received: list[bytes]) -> Callable[[bytes], bool]:
        """A chunk consumer keeping what it is given; it always wants more."""

        def consume(data: bytes) -> bool:
            received.append(data)
            return True

        return consume

    @gen_test
    async def test_read_chunks(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"buffered")
        await reader.read_bytes(1)  # the rest is now buffered in the stream
        received: list[bytes] = []

        def consume(data: bytes) -> bool:
            received.append(data)
            return b"stop" not in b"".join(received)

        done = reader._read_chunks(consume)
        self.assertEqual(received, [b"uffered"])  # given at once
        self.assertTrue(reader.reading())
        await writer.write(b"more")
        await writer.write(b" and stop")
        await done
        self.assertTrue(done.done())
        self.assertEqual(b"".join(received), b"ufferedmore and stop")
        self.assertFalse(reader.reading())
        await writer.write(b"after")
        self.assertEqual(await reader.read_bytes(5), b"after")

    @gen_test
    async def test_read_chunks_consumer_error(self) -> None:
        writer, reader = await self.make_pair()

        def consume(data: bytes) -> bool:
            raise ValueError(f"bad data {data!r}")

        done = reader._read_chunks(consume)
        await writer.write(b"x")
        with self.assertRaisesRegex(ValueError, "bad data"):
            await done
        self.assertFalse(reader.reading())
        self.assertFalse(reader.closed())

    @gen_test
    async def test_read_chunks_close(self) -> None:
        writer, reader = await self.make_pair()
        received: list[bytes] = []
        done = reader._read_chunks(self.collector(received))
        await writer.write(b"last words")
        writer.close()
        with self.assertRaises(StreamClosedError):
            await done
        self.assertEqual(b"".join(received), b"last words")

    @gen_test
    async def test_read_chunks_consumer_closes_stream(self) -> None:
        writer, reader = await self.make_pair()

        def consume(data: bytes) -> bool:
            reader.close()
            return True

        done = reader._read_chunks(consume)
        await writer.write(b"x")
        with self.assertRaises(StreamClosedError):
            await done

    @gen_test
    async def test_read_chunks_sees_context(self) -> None:
        writer, reader = await self.make_pair()
        variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable")
        variable.set("reader's")
        seen: list[str] = []

        def consume(data: bytes) -> bool:
            seen.append(variable.get())
            return False

        done = reader._read_chunks(consume)
        variable.set("changed")
        await writer.write(b"x")
        await done
        self.assertEqual(seen, ["reader's"])

    @gen_test
    async def test_read_chunks_cancelled(self) -> None:
        writer, reader = await self.make_pair()
        received: list[bytes] = []
        done = reader._read_chunks(self.collector(received))
        done.cancel()
        await writer.write(b"ignored")
        await writer.write(b"")
        # The cancelled read is dropped when data arrives; reading works again.
        while reader.reading():
            await asyncio.sleep(0)
        self.assertEqual(received, [])

    @gen_test
    async def test_writes_sent_at_once_keep_order(self) -> None:
        writer, reader = await self.make_pair()
        futures = [writer.write(b"%d," % i) for i in range(100)]
        self.assertTrue(futures[0].done())  # an idle stream sends at once
        await asyncio.gather(*futures)
        expected = b"".join(b"%d," % i for i in range(100))
        self.assertEqual(await reader.read_bytes(len(expected)), expected)

    @gen_test
    async def test_large_write_to_idle_stream(self) -> None:
        writer, reader = await self.make_pair()
        data = bytearray(os.urandom(1 << 22))
        written = writer.write(data)
        self.assertTrue(writer.writing())  # more than the socket takes at once
        self.assertFalse(written.done())
        received = await reader.read_bytes(len(data))
        await written
        self.assertEqual(received, data)
        data.clear()  # no view of it is left behind

    @gen_test
    async def test_max_write_buffer_size(self) -> None:
        writer, reader = await self.make_pair(
            writer_kwargs={"max_write_buffer_size": 10}
        )
        with self.assertRaises(StreamBufferFullError):
            writer.write(b"x" * 11)
        await writer.write(b"x" * 10)
        self.assertEqual(await reader.read_bytes(10), b"x" * 10)

    @gen_test
    async def test_max_buffer_size(self) -> None:
        writer, reader = await self.make_pair(reader_kwargs={"max_buffer_size": 1024})
        pending = reader.read_until(b"\n")
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            writer.write(b"x" * 100000)
            with self.assertRaises(StreamClosedError) as caught:
                await pending
        self.assertIsInstance(caught.exception.real_error, StreamBufferFullError)
        self.assertTrue(reader.closed())
        self.assertEqual(
            [(r.levelno, r.getMessage()) for r in logs.records],
            [
                (logging.ERROR, "Reached maximum read buffer size"),
                (logging.WARNING, "error on read: Reached maximum read buffer size"),
            ],
        )

    @gen_test
    async def test_close_with_error_fails_read_until_close(self) -> None:
        writer, reader = await self.make_pair()
        pending = reader.read_until_close()
        await writer.write(b"partial")
        while not reader._read_buffer:  # received, not yet delivered
            await asyncio.sleep(0)
        error = ValueError("protocol violation")
        reader.close(exc_info=error)
        with self.assertRaises(StreamClosedError) as caught:
            await pending
        self.assertIs(caught.exception.real_error, error)
        self.assertIs(reader.error, error)

    @gen_test
    async def test_read_until_max_bytes(self) -> None:
        writer, reader = await self.make_pair()
        closed = Event()
        reader.set_close_callback(closed.set)
        pending = reader.read_until(b"def", max_bytes=50)
        await writer.write(b"abcdef")
        self.assertEqual(await pending, b"abcdef")
        pending = reader.read_until(b"def", max_bytes=6)  # exactly enough
        await writer.write(b"abcdef")
        self.assertEqual(await pending, b"abcdef")
        with ExpectLog(gen_log, "Unsatisfiable read", level=logging.INFO):
            pending = reader.read_until(b"def", max_bytes=5)
            await writer.write(b"123456")
            await closed.wait()
        with self.assertRaises(StreamClosedError) as caught:
            await pending
        self.assertIsInstance(caught.exception.real_error, UnsatisfiableReadError)

    @gen_test
    async def test_read_until_max_bytes_inline(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"123456")
        await reader.read_bytes(1, partial=True)  # the data is now buffered
        with ExpectLog(gen_log, "Unsatisfiable read", level=logging.INFO):
            reader.read_until(b"def", max_bytes=3)
        self.assertTrue(reader.closed())

    @gen_test
    async def test_read_until_max_bytes_match_past_limit(self) -> None:
        # The delimiter arrives, but ends after max_bytes: still unsatisfiable.
        writer, reader = await self.make_pair()
        closed = Event()
        reader.set_close_callback(closed.set)
        with ExpectLog(gen_log, "Unsatisfiable read", level=logging.INFO):
            reader.read_until(b"def", max_bytes=5)
            await writer.write(b"abcdef")
            await closed.wait()

    @gen_test
    async def test_read_until_regex_max_bytes(self) -> None:
        writer, reader = await self.make_pair()
        closed = Event()
        reader.set_close_callback(closed.set)
        pending = reader.read_until_regex(b"d.f", max_bytes=6)
        await writer.write(b"abcdef")
        self.assertEqual(await pending, b"abcdef")
        with ExpectLog(gen_log, "Unsatisfiable read", level=logging.INFO):
            reader.read_until_regex(b"d.f", max_bytes=5)
            await writer.write(b"123456")
            await closed.wait()

    @gen_test
    async def test_only_one_read_at_a_time(self) -> None:
        writer, reader = await self.make_pair()
        pending = reader.read_bytes(1)
        self.assertTrue(reader.reading())
        with self.assertRaisesRegex(AssertionError, "Already reading"):
            reader.read_bytes(1)
        await writer.write(b"x")
        self.assertEqual(await pending, b"x")
        self.assertFalse(reader.reading())

    @gen_test
    async def test_bad_read_arguments(self) -> None:
        writer, reader = await self.make_pair()
        with self.assertRaisesRegex(TypeError, "num_bytes"):
            reader.read_bytes("10")  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "negative"):
            reader.read_bytes(-1)
        with self.assertRaisesRegex(TypeError, "delimiter"):
            reader.read_until("\n")  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "empty"):
            reader.read_until(b"")
        with self.assertRaisesRegex(ValueError, "max_bytes"):
            reader.read_until(b"\n", max_bytes=-1)
        with self.assertRaisesRegex(TypeError, "bytes pattern"):
            reader.read_until_regex("x+")  # type: ignore[arg-type]
        with self.assertRaisesRegex(TypeError, "read-only"):
            reader.read_into(b"immutable")  # type: ignore[arg-type]
        with self.assertRaisesRegex(TypeError, "writable buffer"):
            reader.read_into([0, 0])  # type: ignore[arg-type]
        self.assertFalse(reader.reading())

    @gen_test
    async def test_read_error_logged_once_and_closes(self) -> None:
        writer, reader = await self.make_pair()

        def broken_read(buf: Any) -> int | None:
            raise OSError(errno.EIO, "simulated read failure")

        pending = reader.read_bytes(1)
        reader.read_from_fd = broken_read  # type: ignore[method-assign]
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            await writer.write(b"x")
            with self.assertRaises(StreamClosedError) as caught:
                await pending
        self.assertEqual(len(logs.records), 1)
        self.assertIn("error on read", logs.records[0].getMessage())
        self.assertIsInstance(caught.exception.real_error, OSError)
        self.assertTrue(reader.closed())

    @gen_test
    async def test_write_error_logged_once_and_closes(self) -> None:
        writer, reader = await self.make_pair()

        def broken_write(data: memoryview) -> int:
            raise OSError(errno.EIO, "simulated write failure")

        writer.write_to_fd = broken_write  # type: ignore[method-assign]
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            with self.assertRaises(StreamClosedError):
                await writer.write(b"x")
        self.assertEqual(len(logs.records), 1)
        self.assertIn("Write error", logs.records[0].getMessage())
        self.assertTrue(writer.closed())


class QueuedFramesTests(_Base):
    """Writes queued straight into the write buffer, as dask's distributed does.

    Mixed into each stream kind's test class, like `ReadWriteTests`.
    """

    async def make_pair(
        self,
        writer_kwargs: dict[str, Any] | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> tuple[BaseIOStream, BaseIOStream]:
        raise NotImplementedError()

    @gen_test
    async def test_frames_queued_then_flushed_by_empty_write(self) -> None:
        writer, reader = await self.make_pair()
        large = bytearray(os.urandom(1024 * 1024))
        numbers = array.array("i", range(1000))  # a view of 4-byte items
        frames: list[Any] = [b"head", memoryview(large), memoryview(numbers), b"!"]
        expected = b"head" + bytes(large) + numbers.tobytes() + b"!"
        received = asyncio.ensure_future(reader.read_bytes(len(expected)))
        for frame in frames:
            size = memoryview(frame).nbytes
            writer._write_buffer.append(frame)
            writer._total_write_index += size
        await writer.write(b"")
        self.assertFalse(writer.writing())  # resolved once all was sent
        self.assertEqual(await received, expected)
        # The stream goes on as usual afterwards.
        await writer.write(b"tail")
        self.assertEqual(await reader.read_bytes(4), b"tail")

    @gen_test
    async def test_empty_write_with_nothing_queued(self) -> None:
        writer, reader = await self.make_pair()
        await writer.write(b"")
        writer._write_buffer.append(b"late")
        writer._total_write_index += 4
        await writer.write(b"")
        self.assertEqual(await reader.read_bytes(4), b"late")


class BufferReleaseTests(_Base):
    """A caller's bytearray is not pinned by a stream that gave up on it."""

    async def make_pair(
        self,
        writer_kwargs: dict[str, Any] | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> tuple[BaseIOStream, BaseIOStream]:
        raise NotImplementedError()

    def setUp(self) -> None:
        super().setUp()
        gc.disable()  # a reference cycle must not be what frees the views
        self.addCleanup(gc.enable)

    def assert_resizable(self, buffer: bytearray) -> None:
        size = len(buffer)
        buffer.extend(b"more")  # BufferError while any view into it exists
        del buffer[size:]

    @gen_test
    async def test_after_close(self) -> None:
        writer, reader = await self.make_pair()
        buffer = bytearray(8 * 1024 * 1024)  # more than any pipe or socket holds
        written = writer.write(buffer)
        self.assertTrue(writer.writing())
        with self.assertRaises(BufferError):
            buffer.append(0)  # queued without a copy: pinned, as it should be
        writer.close()
        self.assert_resizable(buffer)
        with self.assertRaises(StreamClosedError):
            await written

    @gen_test
    async def test_after_peer_closed(self) -> None:
        writer, reader = await self.make_pair()
        closed = Event()
        writer.set_close_callback(closed.set)
        buffer = bytearray(8 * 1024 * 1024)
        written = writer.write(buffer)
        # The writer notices by a failed send (EPIPE, a reset) or a read.
        reader.close()
        await closed.wait()
        self.assert_resizable(buffer)
        with self.assertRaises(StreamClosedError):
            await written


class SocketTests(ReadWriteTests, QueuedFramesTests, BufferReleaseTests):
    """Tests over both directions of a socket connection."""

    async def make_socket_pair(
        self,
        client_kwargs: dict[str, Any] | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> tuple[IOStream, IOStream]:
        raise NotImplementedError()

    async def make_pair(
        self,
        writer_kwargs: dict[str, Any] | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> tuple[BaseIOStream, BaseIOStream]:
        return await self.make_socket_pair(writer_kwargs, reader_kwargs)

    @gen_test
    async def test_both_directions(self) -> None:
        client, server = await self.make_socket_pair()
        await client.write(b"ping\n")
        self.assertEqual(await server.read_until(b"\n"), b"ping\n")
        await server.write(b"pong\n")
        self.assertEqual(await client.read_until(b"\n"), b"pong\n")

    @gen_test
    async def test_peer_closes_mid_write(self) -> None:
        client, server = await self.make_socket_pair()
        server.close()
        with self.assertNoLogs(gen_log, logging.INFO):
            with self.assertRaises(StreamClosedError):
                # The peer is gone: sending fails with EPIPE or ECONNRESET
                # once the first bytes are refused.
                while True:
                    await client.write(b"x" * 65536)
        self.assertTrue(client.closed())

    @gen_test
    async def test_close_callback_runs_once(self) -> None:
        client, server = await self.make_socket_pair()
        calls: list[int] = []
        closed = Event()

        def on_close() -> None:
            calls.append(1)
            closed.set()

        client.set_close_callback(on_close)
        client.close()
        client.close()
        await closed.wait()
        self.assertEqual(calls, [1])


class TCPTests(SocketTests):
    """TCP-only behaviour, run over IPv4 and IPv6."""

    family = socket.AF_INET
    host = "127.0.0.1"

    async def make_socket_pair(
        self,
        client_kwargs: dict[str, Any] | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> tuple[IOStream, IOStream]:
        return await self.socket_pair(
            self.family, (self.host, 0), client_kwargs, server_kwargs
        )

    @gen_test
    async def test_connect_refused(self) -> None:
        listener, port = bind_unused_port(address=self.host)
        listener.close()  # nothing listens on the port any more
        stream = self.track(IOStream(socket.socket(self.family)))
        with self.assertNoLogs(gen_log, logging.INFO):
            with self.assertRaises(StreamClosedError) as caught:
                await stream.connect((self.host, port))
        self.assertIsInstance(caught.exception.real_error, ConnectionRefusedError)
        self.assertIs(stream.error, caught.exception.real_error)

    @gen_test
    async def test_write_and_read_before_connected(self) -> None:
        listener = self.listen(self.family, (self.host, 0))
        client = self.track(IOStream(socket.socket(self.family)))
        connected = client.connect(listener.getsockname())
        written = client.write(b"early\n")  # queued until connected
        reply = client.read_until(b"\n")
        server = self.track(IOStream(await self.accept_connection(listener)))
        await connected
        self.assertEqual(await server.read_until(b"\n"), b"early\n")
        await written
        await server.write(b"ok\n")
        self.assertEqual(await reply, b"ok\n")

    @gen_test
    async def test_connection_reset(self) -> None:
        client, server = await self.make_socket_pair()
        pending = client.read_bytes(1)
        # Linger with a zero timeout: close() sends RST instead of FIN.
        server.socket.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        server.close()
        with self.assertNoLogs(gen_log, logging.INFO):
            with self.assertRaises(StreamClosedError) as caught:
                await pending
        self.assertIsInstance(caught.exception.real_error, ConnectionResetError)

    @gen_test
    async def test_set_nodelay(self) -> None:
        client, server = await self.make_socket_pair()
        option = (socket.IPPROTO_TCP, socket.TCP_NODELAY)
        client.set_nodelay(True)
        self.assertTrue(client.socket.getsockopt(*option))
        client.set_nodelay(False)
        self.assertFalse(client.socket.getsockopt(*option))
        client.close()
        client.set_nodelay(True)  # ignored once closed

    @gen_test
    async def test_get_fd_error_without_error(self) -> None:
        client, server = await self.make_socket_pair()
        error = client.get_fd_error()
        assert error is not None
        self.assertEqual(typing.cast(OSError, error).errno, 0)


class TCPv4StreamTest(TCPTests, StreamTestBase):
    pass


@unittest.skipUnless(ipv6_available(), "IPv6 is not available on this machine")
class TCPv6StreamTest(TCPTests, StreamTestBase):
    family = socket.AF_INET6
    host = "::1"


@unittest.skipUnless(hasattr(socket, "AF_UNIX"), "unix sockets are not available")
class UnixSocketStreamTest(SocketTests, StreamTestBase):
    def setUp(self) -> None:
        super().setUp()
        self.tmpdir = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmpdir.cleanup)

    async def make_socket_pair(
        self,
        client_kwargs: dict[str, Any] | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> tuple[IOStream, IOStream]:
        path = os.path.join(self.tmpdir.name, f"s{len(self._to_close)}.sock")
        return await self.socket_pair(
            socket.AF_UNIX, path, client_kwargs, server_kwargs
        )

    @gen_test
    async def test_set_nodelay_is_ignored(self) -> None:
        client, server = await self.make_socket_pair()
        client.set_nodelay(True)
        await client.write(b"x")
        self.assertEqual(await server.read_bytes(1), b"x")


class TLSStreamTest(SocketTests, StreamTestBase):
    async def make_socket_pair(
        self,
        client_kwargs: dict[str, Any] | None = None,
        server_kwargs: dict[str, Any] | None = None,
    ) -> tuple[IOStream, IOStream]:
        return await self.tls_pair(client_kwargs, server_kwargs)

    async def tls_server_and_plain_client(
        self,
    ) -> tuple[SSLIOStream, IOStream]:
        """A server SSLIOStream (handshake pending) and a plain client."""
        listener = self.listen(socket.AF_INET, ("127.0.0.1", 0))
        client = self.track(IOStream(socket.socket(socket.AF_INET)))
        connected = client.connect(listener.getsockname())
        tls_connection = server_ssl_context().wrap_socket(
            await self.accept_connection(listener),
            server_side=True,
            do_handshake_on_connect=False,
        )
        await connected
        return self.track(SSLIOStream(tls_connection)), client

    @gen_test
    async def test_peer_certificate(self) -> None:
        client, server = await self.tls_pair()
        assert isinstance(client, SSLIOStream)
        certificate = client.socket.getpeercert()
        assert certificate is not None
        self.assertIn((("commonName", "localhost"),), certificate["subject"])
        self.assertIsNone(server.socket.getpeercert())  # no client certificate

    @gen_test
    async def test_wait_for_handshake_only_once_at_a_time(self) -> None:
        server, client = await self.tls_server_and_plain_client()
        server.wait_for_handshake()
        with self.assertRaisesRegex(RuntimeError, "Already waiting"):
            server.wait_for_handshake()

    @gen_test
    async def test_untrusted_certificate(self) -> None:
        server, client = await self.tls_server_and_plain_client()
        client_tls = client.start_tls(
            False, ssl_options=ssl.create_default_context(), server_hostname="localhost"
        )
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            with self.assertRaises(ssl.SSLCertVerificationError):
                await client_tls
            with self.assertRaises((ssl.SSLError, StreamClosedError)):
                await server.wait_for_handshake()
        messages = [record.getMessage() for record in logs.records]
        # One line from each side: the client's verification failure and
        # the server's report of the client's alert.
        self.assertEqual(len(messages), 2, messages)
        self.assertTrue(all(m.startswith("SSL Error") for m in messages), messages)

    @gen_test
    async def test_hostname_mismatch(self) -> None:
        server, client = await self.tls_server_and_plain_client()
        client_tls = client.start_tls(
            False, ssl_options=client_ssl_context(), server_hostname="wrong.example"
        )
        with ExpectLog(gen_log, "SSL Error", level=logging.WARNING):
            with self.assertRaisesRegex(ssl.SSLCertVerificationError, "wrong.example"):
                await client_tls
            with self.assertRaises((ssl.SSLError, StreamClosedError)):
                await server.wait_for_handshake()

    @gen_test
    async def test_plaintext_client_on_tls_port(self) -> None:
        server, client = await self.tls_server_and_plain_client()
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            handshake = server.wait_for_handshake()
            await client.write(b"GET / HTTP/1.0\r\n\r\n")
            with self.assertRaises(ssl.SSLError):
                await handshake
            await client.read_until_close()  # the server hung up
        self.assertEqual(len(logs.records), 1)
        self.assertTrue(logs.records[0].getMessage().startswith("SSL Error"))
        self.assertTrue(server.closed())

    @gen_test
    async def test_client_leaves_during_handshake(self) -> None:
        server, client = await self.tls_server_and_plain_client()
        handshake = server.wait_for_handshake()
        with self.assertNoLogs(gen_log, logging.INFO):
            client.close()
            with self.assertRaises((ssl.SSLError, StreamClosedError)):
                await handshake
        self.assertTrue(server.closed())

    @gen_test
    async def test_start_tls_on_both_sides(self) -> None:
        client, server = await self.socket_pair(socket.AF_INET, ("127.0.0.1", 0))
        await client.write(b"STARTTLS\n")
        self.assertEqual(await server.read_until(b"\n"), b"STARTTLS\n")
        server_tls = server.start_tls(True, ssl_options=server_ssl_context())
        client_tls = client.start_tls(
            False, ssl_options=client_ssl_context(), server_hostname="localhost"
        )
        tls_client = self.track(await client_tls)
        tls_server = self.track(await server_tls)
        self.assertTrue(client.closed())  # the old streams are given up
        with self.assertRaises(StreamClosedError):
            client.write(b"plain")
        await tls_client.write(b"secret\n")
        self.assertEqual(await tls_server.read_until(b"\n"), b"secret\n")

    @gen_test
    async def test_start_tls_with_dict_options(self) -> None:
        client, server = await self.socket_pair(socket.AF_INET, ("127.0.0.1", 0))
        server_tls = server.start_tls(
            True, ssl_options={"certfile": CERTFILE, "keyfile": KEYFILE}
        )
        client_tls = client.start_tls(
            False,
            ssl_options={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": CERTFILE},
            server_hostname="localhost",
        )
        tls_client = self.track(await client_tls)
        tls_server = self.track(await server_tls)
        await tls_server.write(b"hi")
        self.assertEqual(await tls_client.read_bytes(2), b"hi")

    @gen_test
    async def test_buffer_released_after_send_error(self) -> None:
        gc.disable()
        self.addCleanup(gc.enable)
        writer, reader = await self.tls_pair()
        buffer = bytearray(8 * 1024 * 1024)
        written = writer.write(buffer)
        self.assertTrue(writer.writing())

        def reset(data: Any, flags: int = 0) -> int:
            raise ConnectionResetError(errno.ECONNRESET, "simulated reset")

        writer.socket.send = reset  # type: ignore[method-assign]
        # Reading makes room: the writer sends again, and fails.
        drained = reader.read_until_close()
        with self.assertRaises(StreamClosedError) as caught:
            await written
        self.assertIsInstance(caught.exception.real_error, ConnectionResetError)
        buffer.extend(b"more")  # no view survives in the error's traceback
        await drained  # the writer's close ends it

    @gen_test
    async def test_cancelled_start_tls_closes_the_connection(self) -> None:
        client, server = await self.socket_pair(socket.AF_INET, ("127.0.0.1", 0))
        # The server never answers the handshake.
        handshake = client.start_tls(
            False, ssl_options=client_ssl_context(), server_hostname="localhost"
        )
        hello = await server.read_bytes(1, partial=True)  # the ClientHello
        self.assertTrue(hello)
        handshake.cancel()  # type: ignore[attr-defined]
        await server.read_until_close()  # ends: the client's socket is closed
        self.assertTrue(server.closed())

    @gen_test
    async def test_start_tls_requires_idle_stream(self) -> None:
        client, server = await self.socket_pair(socket.AF_INET, ("127.0.0.1", 0))
        await client.write(b"unread")
        await server.read_bytes(1)  # the rest stays buffered
        with self.assertRaisesRegex(ValueError, "not idle"):
            server.start_tls(True, ssl_options=server_ssl_context())
        client.read_bytes(1)
        with self.assertRaisesRegex(ValueError, "not idle"):
            client.start_tls(False)


class PipeStreamTest(
    ReadWriteTests, QueuedFramesTests, BufferReleaseTests, StreamTestBase
):
    async def make_pair(
        self,
        writer_kwargs: dict[str, Any] | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> tuple[BaseIOStream, BaseIOStream]:
        read_fd, write_fd = os.pipe()
        reader = self.track(PipeIOStream(read_fd, **(reader_kwargs or {})))
        writer = self.track(PipeIOStream(write_fd, **(writer_kwargs or {})))
        return writer, reader

    @gen_test
    async def test_write_after_reader_closed(self) -> None:
        writer, reader = await self.make_pair()
        reader.close()
        with self.assertNoLogs(gen_log, logging.INFO):
            with self.assertRaises(StreamClosedError) as caught:
                await writer.write(b"nobody listens")
        self.assertIsInstance(caught.exception.real_error, BrokenPipeError)

    @gen_test
    async def test_fileno_is_the_descriptor(self) -> None:
        writer, reader = await self.make_pair()
        assert isinstance(reader, PipeIOStream)
        self.assertEqual(reader.fileno(), reader.fd)


class InlineErrorTest(StreamTestBase):
    @gen_test
    async def test_inline_read_error_is_raised_not_logged(self) -> None:
        client, server = await self.socket_pair(socket.AF_INET, ("127.0.0.1", 0))

        def broken_read(buf: Any) -> int | None:
            raise OSError(errno.EIO, "simulated read failure")

        server.read_from_fd = broken_read  # type: ignore[method-assign]
        with self.assertNoLogs(gen_log, logging.INFO):
            with self.assertRaisesRegex(OSError, "simulated"):
                server.read_bytes(1)
        self.assertTrue(server.closed())
        self.assertFalse(server.reading())


class BufferCostTest(unittest.TestCase):
    """The buffers copy and scan each byte a bounded number of times."""

    def test_read_buffer_compaction_is_linear(self) -> None:
        moved = 0

        class CountingBytearray(bytearray):
            def __delitem__(self, index: Any) -> None:
                nonlocal moved
                if isinstance(index, slice):
                    moved += len(self) - (index.stop or 0)
                super().__delitem__(index)

        buffer = _ReadBuffer()
        buffer._data = CountingBytearray()
        total = 0
        for _ in range(50):
            chunk = os.urandom(20000)
            buffer.append(chunk)
            total += len(chunk)
            while len(buffer) > 7:
                buffer.take(7)
        self.assertLessEqual(moved, total)
        self.assertLessEqual(len(buffer._data), 2 * len(buffer))

    def test_delimiter_search_resumes(self) -> None:
        scanned = 0

        class CountingBuffer(_ReadBuffer):
            def find(self, needle: bytes, offset: int) -> int:
                nonlocal scanned
                scanned += len(self) - offset
                return super().find(needle, offset)

        buffer = CountingBuffer()
        request = _DelimiterRead(b"\r\n\r\n", None)
        for _ in range(1000):
            buffer.append(b"x" * 1000 + b"\r")
            self.assertIsNone(request.ready(buffer))
        buffer.append(b"\n\r\n")
        self.assertEqual(request.ready(buffer), len(buffer))
        self.assertLess(scanned, 2 * len(buffer))

    def test_large_writes_are_not_copied(self) -> None:
        data = os.urandom(1 << 20)
        buffer = _WriteBuffer()
        buffer.append(data)
        offered: list[tuple[Any, int]] = []

        def send(view: memoryview) -> int:
            offered.append((view.obj, len(view)))
            return min(len(view), 100000)

        while len(buffer):
            buffer.send_head(send)
        self.assertTrue(all(obj is data for obj, _ in offered))
        self.assertEqual(
            [size for _, size in offered][:2], [len(data), len(data) - 100000]
        )

    def test_small_writes_are_coalesced(self) -> None:
        buffer = _WriteBuffer()
        for i in range(100):
            buffer.append(b"%09d\n" % i)
        sizes: list[int] = []

        def send(view: memoryview) -> int:
            sizes.append(len(view))
            return len(view)

        buffer.send_head(send)
        self.assertGreater(sizes[0], 10)
        self.assertEqual(len(buffer), 1000 - sizes[0])


class StreamClosedErrorTest(unittest.TestCase):
    def test_real_error(self) -> None:
        cause = ConnectionResetError()
        error = StreamClosedError(real_error=cause)
        self.assertIs(error.real_error, cause)
        self.assertIsInstance(error, OSError)
        self.assertEqual(str(error), "Stream is closed")
        self.assertIsNone(StreamClosedError().real_error)


if sys.platform == "win32":  # pragma: no cover
    del PipeStreamTest
