"""Tests for tornado.tcpclient: TCPClient over loopback and the happy-eyeballs connector."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import fractions
import itertools
import logging
import os
import socket
import ssl
import typing
import unittest
from collections.abc import Iterator
from typing import Any
from unittest import mock

from tornado.concurrent import Future
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.locks import Event
from tornado.log import gen_log
from tornado.netutil import Resolver, bind_sockets
from tornado.tcpclient import _INITIAL_CONNECT_TIMEOUT, TCPClient, _HappyEyeballs
from tornado.test.tcpserver_test import EchoServer
from tornado.test.util import (
    client_ssl_context,
    closed_port,
    ipv6_available,
    server_ssl_context,
)
from tornado.testing import AsyncTestCase, gen_test
from tornado.util import TimeoutError

AF1, AF2 = socket.AF_INET, socket.AF_INET6


@contextlib.contextmanager
def long_fallback_delay() -> Iterator[None]:
    """Make the second lane wait 30 s for the fallback timer.

    A connection made within a few seconds then shows that the second lane
    started at once, with a margin no loaded machine can eat (the real
    delay is only 0.3 s).
    """
    with mock.patch.object(_HappyEyeballs.start, "__defaults__", (30.0,)):
        yield


class StaticResolver(Resolver):
    """Resolves every name to a fixed list, or fails with a fixed error."""

    def initialize(
        self, addresses: list[tuple[int, Any]], error: Exception | None = None
    ) -> None:
        self.addresses = addresses
        self.error = error
        self.closed = False

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        if self.error is not None:
            raise self.error
        return self.addresses

    def close(self) -> None:
        self.closed = True


class NeverResolver(Resolver):
    """A resolver whose answers never come."""

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Future[list[tuple[int, Any]]]:
        return Future()


class ServedEchoServer(EchoServer):
    """An `EchoServer` that says when it is done with a connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.served_one = Event()

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        await super().handle_stream(stream, address)
        self.served_one.set()


class TCPClientTest(AsyncTestCase):
    server: ServedEchoServer

    def setUp(self) -> None:
        super().setUp()
        self.server = ServedEchoServer()
        self.client = TCPClient()
        self.streams: list[IOStream] = []

    def tearDown(self) -> None:
        for stream in self.streams + self.server.streams:
            stream.close()
        self.server.stop()
        self.client.close()
        super().tearDown()

    def listen(self, address: str = "127.0.0.1", **server_kwargs: Any) -> int:
        if server_kwargs:
            self.server = ServedEchoServer(**server_kwargs)
        sockets = bind_sockets(0, address)
        self.server.add_sockets(sockets)
        return int(sockets[0].getsockname()[1])

    async def connect(self, *args: Any, **kwargs: Any) -> IOStream:
        client = kwargs.pop("client", self.client)
        stream: IOStream = await client.connect(*args, **kwargs)
        self.streams.append(stream)
        return stream

    async def assert_echoes(self, stream: IOStream) -> None:
        await stream.write(b"hi\n")
        self.assertEqual(await stream.read_until(b"\n"), b"hi\n")

    @gen_test
    async def test_connect_ipv4(self) -> None:
        port = self.listen()
        stream = await self.connect("127.0.0.1", port)
        self.assertEqual(stream.socket.family, socket.AF_INET)
        await self.assert_echoes(stream)

    @unittest.skipUnless(ipv6_available(), "IPv6 is not available on this machine")
    @gen_test
    async def test_connect_ipv6(self) -> None:
        port = self.listen("::1")
        stream = await self.connect("::1", port)
        self.assertEqual(stream.socket.family, socket.AF_INET6)
        await self.assert_echoes(stream)

    @gen_test
    async def test_connect_by_name_with_family(self) -> None:
        port = self.listen("127.0.0.1")
        stream = await self.connect("localhost", port, af=socket.AF_INET)
        self.assertEqual(stream.socket.family, socket.AF_INET)
        await self.assert_echoes(stream)

    @gen_test
    async def test_connection_refused(self) -> None:
        with self.assertRaises(OSError) as caught:
            await self.connect("127.0.0.1", closed_port())
        self.assertIsInstance(caught.exception, StreamClosedError)
        error = typing.cast(StreamClosedError, caught.exception)
        self.assertIsInstance(error.real_error, ConnectionRefusedError)

    @gen_test
    async def test_source_ip(self) -> None:
        port = self.listen()
        stream = await self.connect("127.0.0.1", port, source_ip="127.0.0.1")
        await self.assert_echoes(stream)
        self.assertEqual(self.server.addresses[0][0], "127.0.0.1")

    @gen_test
    async def test_source_port(self) -> None:
        port = self.listen()
        source_port = closed_port()
        stream = await self.connect("127.0.0.1", port, source_port=source_port)
        await self.assert_echoes(stream)
        self.assertEqual(self.server.addresses[0], ("127.0.0.1", source_port))

    @gen_test
    async def test_unusable_source_ip(self) -> None:
        port = self.listen()
        # 192.0.2.0/24 is reserved for documentation: never a local address.
        with self.assertRaises(OSError):
            await self.connect("127.0.0.1", port, source_ip="192.0.2.1")

    @gen_test
    async def test_max_buffer_size(self) -> None:
        port = self.listen()
        stream = await self.connect("127.0.0.1", port, max_buffer_size=4096)
        self.assertEqual(stream.max_buffer_size, 4096)

    @gen_test
    async def test_tls(self) -> None:
        port = self.listen(ssl_options=server_ssl_context())
        stream = await self.connect("localhost", port, ssl_options=client_ssl_context())
        self.assertIsInstance(stream, SSLIOStream)
        await self.assert_echoes(stream)

    @gen_test
    async def test_tls_checks_host_name(self) -> None:
        port = self.listen(ssl_options=server_ssl_context())
        client = TCPClient(
            resolver=StaticResolver(addresses=[(socket.AF_INET, ("127.0.0.1", port))])
        )
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            with self.assertRaisesRegex(ssl.SSLCertVerificationError, "other.example"):
                await self.connect(
                    "other.example",
                    port,
                    ssl_options=client_ssl_context(),
                    client=client,
                )
            await self.server.served_one.wait()  # its SSL error is logged
        self.assertTrue(
            all(r.getMessage().startswith("SSL Error") for r in logs.records)
        )

    @gen_test
    async def test_resolve_timeout(self) -> None:
        client = TCPClient(resolver=NeverResolver())
        for timeout in (0.01, datetime.timedelta(seconds=0.01)):
            with self.assertRaises(TimeoutError):
                await client.connect("example.com", 80, timeout=timeout)

    @gen_test
    async def test_resolve_timeout_as_any_real_number(self) -> None:
        client = TCPClient(resolver=NeverResolver())
        with self.assertRaises(TimeoutError):
            await client.connect("example.com", 80, timeout=fractions.Fraction(1, 100))

    @gen_test
    async def test_bad_timeout(self) -> None:
        with self.assertRaisesRegex(TypeError, "timeout"):
            await self.client.connect("127.0.0.1", 1, timeout="soon")  # type: ignore[arg-type]
        with self.assertRaisesRegex(TypeError, "Unsupported timeout True"):
            await self.client.connect("127.0.0.1", 1, timeout=True)

    @gen_test
    async def test_resolver_failure(self) -> None:
        error = OSError("cannot resolve 'nowhere.invalid'")
        client = TCPClient(resolver=StaticResolver(addresses=[], error=error))
        with self.assertRaisesRegex(OSError, "nowhere.invalid"):
            await client.connect("nowhere.invalid", 80)

    @gen_test
    async def test_next_address_after_refusal(self) -> None:
        port = self.listen()
        addresses = [
            (socket.AF_INET, ("127.0.0.1", closed_port())),
            (socket.AF_INET, ("127.0.0.1", port)),
        ]
        client = TCPClient(resolver=StaticResolver(addresses=addresses))
        stream = await self.connect("anything", port, client=client)
        await self.assert_echoes(stream)

    @unittest.skipUnless(ipv6_available(), "IPv6 is not available on this machine")
    @gen_test
    async def test_other_family_after_refusal(self) -> None:
        port = self.listen()
        addresses = [
            (socket.AF_INET6, ("::1", closed_port("::1"))),
            (socket.AF_INET, ("127.0.0.1", port)),
        ]
        client = TCPClient(resolver=StaticResolver(addresses=addresses))
        start = self.io_loop.time()
        with long_fallback_delay():
            stream = await self.connect("anything", port, client=client)
        # A refusal starts the other family at once, without the delay.
        self.assertLess(self.io_loop.time() - start, 5)
        self.assertEqual(stream.socket.family, socket.AF_INET)

    def test_close_releases_only_its_own_resolver(self) -> None:
        given = StaticResolver(addresses=[])
        TCPClient(resolver=given).close()
        self.assertFalse(given.closed)
        client = TCPClient()
        client.close()


def open_socket_count() -> int:
    """How many sockets this process has open (Linux only)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass  # closed while we looked (the listing's own descriptor)
    return count


skip_without_proc = unittest.skipUnless(
    os.path.isdir("/proc/self/fd"), "counts sockets through /proc"
)


class HappyEyeballsTest(AsyncTestCase):
    """Which addresses are tried when, over real loopback sockets.

    Addresses play three parts: one that accepts, one that refuses (nothing
    listens) and one that hangs (a listener whose accept queue is full
    drops new connection requests, so connecting neither succeeds nor fails).
    """

    def setUp(self) -> None:
        super().setUp()
        self.sockets: list[socket.socket] = []
        self.streams: list[IOStream] = []
        self.baseline: int | None = None

    def tearDown(self) -> None:
        for stream in self.streams:
            stream.close()
        for sock in self.sockets:
            sock.close()
        super().tearDown()

    def family_host(self, family: socket.AddressFamily) -> str:
        if family == socket.AF_INET6:
            if not ipv6_available():
                self.skipTest("IPv6 is not available on this machine")
            return "::1"
        return "127.0.0.1"

    def listener(self, family: socket.AddressFamily, backlog: int) -> socket.socket:
        sock = socket.socket(family)
        self.sockets.append(sock)
        sock.bind((self.family_host(family), 0))
        sock.listen(backlog)
        return sock

    def accepting(self, family: socket.AddressFamily = AF1) -> tuple[Any, Any]:
        return family, self.listener(family, 8).getsockname()

    def refusing(self, family: socket.AddressFamily = AF1) -> tuple[Any, Any]:
        host = self.family_host(family)
        return family, (host, closed_port(host))

    def hanging(self, family: socket.AddressFamily = AF1) -> tuple[Any, Any]:
        listener = self.listener(family, 0)
        filler = socket.socket(family)  # fills the one-entry accept queue
        self.sockets.append(filler)
        filler.connect(listener.getsockname())
        return family, listener.getsockname()

    def note_baseline(self) -> None:
        """Count the sockets open before the client opens any.

        Counted inside the running test, as some loops (uvloop) open sockets
        of their own once they run.
        """
        if self.baseline is None and os.path.isdir("/proc/self/fd"):
            self.baseline = open_socket_count() - len(self.sockets)

    def client(self, *candidates: tuple[Any, Any]) -> TCPClient:
        self.note_baseline()
        client = TCPClient(resolver=StaticResolver(addresses=list(candidates)))
        self.addCleanup(client.close)
        return client

    async def connect(self, client: TCPClient, **kwargs: Any) -> IOStream:
        stream = await client.connect("localhost", 1, **kwargs)
        self.streams.append(stream)
        return stream

    def assert_only_own_sockets_open(self, streams_kept: int = 0) -> None:
        """Every socket the client opened is closed, but ``streams_kept``."""
        if self.baseline is None:
            return  # no /proc to count with
        own = len(self.sockets)
        self.assertEqual(open_socket_count(), self.baseline + own + streams_kept)

    @gen_test
    async def test_first_address_wins(self) -> None:
        client = self.client(self.accepting(AF1), self.hanging(AF2))
        stream = await self.connect(client)
        self.assertEqual(stream.socket.family, AF1)
        self.assert_only_own_sockets_open(streams_kept=1)

    @gen_test
    async def test_other_family_after_the_delay(self) -> None:
        client = self.client(self.hanging(AF2), self.accepting(AF1))
        start = self.io_loop.time()
        stream = await self.connect(client)
        self.assertGreaterEqual(self.io_loop.time() - start, _INITIAL_CONNECT_TIMEOUT)
        self.assertEqual(stream.socket.family, AF1)
        # The attempt that lost the race is closed.
        self.assert_only_own_sockets_open(streams_kept=1)

    @gen_test
    async def test_failure_starts_the_other_family_at_once(self) -> None:
        client = self.client(self.refusing(AF1), self.hanging(AF1), self.accepting(AF2))
        start = self.io_loop.time()
        with long_fallback_delay():
            stream = await self.connect(client)
        self.assertLess(self.io_loop.time() - start, 5)
        self.assertEqual(stream.socket.family, AF2)
        self.assert_only_own_sockets_open(streams_kept=1)

    @gen_test
    async def test_addresses_of_a_family_tried_in_turn(self) -> None:
        client = self.client(self.refusing(), self.refusing(), self.accepting())
        stream = await self.connect(client)
        await stream.write(b"x")  # connected to the third
        self.assert_only_own_sockets_open(streams_kept=1)

    @gen_test
    async def test_synchronous_failure_moves_on_at_once(self) -> None:
        # An IPv6 socket cannot bind an IPv4 source address: that attempt
        # fails before it starts.
        client = self.client(self.hanging(AF2), self.accepting(AF1))
        start = self.io_loop.time()
        with long_fallback_delay():
            stream = await self.connect(client, source_ip="127.0.0.1")
        self.assertLess(self.io_loop.time() - start, 5)
        self.assertEqual(stream.socket.family, AF1)
        self.assert_only_own_sockets_open(streams_kept=1)

    @gen_test
    async def test_all_fail_with_the_last_error(self) -> None:
        client = self.client(self.refusing(AF1), self.refusing(AF2))
        with self.assertRaises(StreamClosedError) as caught:
            await self.connect(client)
        self.assertIsInstance(caught.exception.real_error, ConnectionRefusedError)
        self.assert_only_own_sockets_open()

    @gen_test
    async def test_timeout_names_the_pending_addresses(self) -> None:
        v6, v4 = self.hanging(AF2), self.hanging(AF1)
        client = self.client(v6, v4)
        with self.assertRaises(TimeoutError) as caught:
            await self.connect(client, timeout=_INITIAL_CONNECT_TIMEOUT + 0.2)
        expected = sorted([f"[{v6[1][0]}]:{v6[1][1]}", f"{v4[1][0]}:{v4[1][1]}"])
        self.assertEqual(
            str(caught.exception), "Timeout while connecting to " + ", ".join(expected)
        )
        self.assert_only_own_sockets_open()

    @gen_test
    async def test_timeout_while_resolving(self) -> None:
        client = TCPClient(resolver=NeverResolver())
        with self.assertRaisesRegex(
            TimeoutError, "^Timeout while resolving example.com$"
        ):
            await client.connect("example.com", 80, timeout=0.01)

    @gen_test
    async def test_timeout_during_tls_handshake(self) -> None:
        family, address = self.accepting()  # the kernel accepts; nobody answers
        client = self.client((family, address))
        with self.assertRaises(TimeoutError) as caught:
            await self.connect(client, ssl_options=client_ssl_context(), timeout=0.1)
        self.assertEqual(
            str(caught.exception),
            f"Timeout during TLS handshake with 127.0.0.1:{address[1]}",
        )
        self.assert_only_own_sockets_open()

    @gen_test
    async def test_cancelled_attempt_counts_as_failure(self) -> None:
        opened: list[IOStream] = []

        class CancellingClient(TCPClient):
            def _create_stream(self, *args: Any, **kwargs: Any) -> Any:
                stream, connected = super()._create_stream(*args, **kwargs)
                opened.append(stream)
                if len(opened) == 1:
                    connected.cancel()
                return stream, connected

        self.note_baseline()
        client = CancellingClient(
            resolver=StaticResolver(addresses=[self.hanging(), self.accepting()])
        )
        stream = await self.connect(client)
        self.assertIs(stream, opened[1])
        self.assertTrue(opened[0].closed())
        self.assert_only_own_sockets_open(streams_kept=1)

    async def cancel_after(self, iterations: int, **kwargs: Any) -> IOStream | None:
        """Start a connect, cancel it after ``iterations`` loop iterations.

        Returns the stream if the connect finished first.
        """
        task = asyncio.ensure_future(self.connect(**kwargs))
        for _ in range(iterations):
            await asyncio.sleep(0)
        if task.done():
            return task.result()
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        return None

    @gen_test
    async def test_cancel_at_every_step_closes_everything(self) -> None:
        self.note_baseline()
        server = EchoServer(ssl_options=server_ssl_context())
        sockets = bind_sockets(0, "127.0.0.1")
        server.add_sockets(sockets)
        target = (socket.AF_INET, sockets[0].getsockname())
        fallback = self.hanging(AF2)
        for timeout in (None, 5.0):
            for iterations in itertools.count():
                client = self.client(target, fallback)
                stream = await self.cancel_after(
                    iterations,
                    client=client,
                    ssl_options=client_ssl_context(),
                    timeout=timeout,
                )
                if stream is not None:
                    stream.close()
                    break
                self.assertLess(iterations, 10000)
            self.assertGreater(iterations, 3)  # the connect took several steps
        server.stop()
        for stream in server.streams:
            stream.close()
        self.assert_only_own_sockets_open()

    @gen_test
    async def test_cancel_while_connecting_closes_every_attempt(self) -> None:
        for timeout in (None, 5.0):
            client = self.client(self.hanging(AF2), self.hanging(AF1))
            task = asyncio.ensure_future(self.connect(client, timeout=timeout))
            await asyncio.sleep(_INITIAL_CONNECT_TIMEOUT + 0.05)  # both in flight
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            self.assert_only_own_sockets_open()
