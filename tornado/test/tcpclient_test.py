"""Tests for tornado.tcpclient: TCPClient over loopback and the happy-eyeballs connector."""

from __future__ import annotations

import datetime
import logging
import socket
import ssl
import typing
import unittest
from typing import Any

from tornado import gen
from tornado.concurrent import Future
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.locks import Event
from tornado.log import gen_log
from tornado.netutil import Resolver, bind_sockets
from tornado.tcpclient import _INITIAL_CONNECT_TIMEOUT, TCPClient, _Connector
from tornado.test.iostream_test import client_ssl_context, server_ssl_context
from tornado.test.tcpserver_test import EchoServer
from tornado.test.util import closed_port, ipv6_available
from tornado.testing import AsyncTestCase, gen_test
from tornado.util import TimeoutError

AF1, AF2 = socket.AF_INET, socket.AF_INET6


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


class TCPClientTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = EchoServer()
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
            self.server = EchoServer(**server_kwargs)
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
            while not (self.server.streams and self.server.streams[0].closed()):
                await gen.moment
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
    async def test_bad_timeout(self) -> None:
        with self.assertRaisesRegex(TypeError, "timeout"):
            await self.client.connect("127.0.0.1", 1, timeout="soon")  # type: ignore[arg-type]

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
        stream = await self.connect("anything", port, client=client)
        # A refusal starts the other family at once, without the delay.
        self.assertLess(self.io_loop.time() - start, _INITIAL_CONNECT_TIMEOUT)
        self.assertEqual(stream.socket.family, socket.AF_INET)

    def test_close_releases_only_its_own_resolver(self) -> None:
        given = StaticResolver(addresses=[])
        TCPClient(resolver=given).close()
        self.assertFalse(given.closed)
        client = TCPClient()
        client.close()


class FakeStream:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class ConnectorTest(AsyncTestCase):
    """The happy-eyeballs state machine, with connections faked."""

    def setUp(self) -> None:
        super().setUp()
        self.attempts: dict[Any, tuple[FakeStream, Future[Any]]] = {}
        self.attempted = Event()

    def fake_connect(self, af: socket.AddressFamily, addr: Any) -> tuple[Any, Any]:
        stream = FakeStream()
        future: Future[Any] = Future()
        self.attempts[addr] = (stream, future)
        self.attempted.set()
        return stream, future

    def make_connector(self, addrinfo: list[tuple[Any, Any]]) -> _Connector:
        return _Connector(addrinfo, self.fake_connect)

    def succeed(self, addr: str) -> FakeStream:
        stream, future = self.attempts[addr]
        future.set_result(stream)
        return stream

    def refuse(self, addr: str) -> None:
        self.attempts[addr][1].set_exception(OSError(f"{addr} refused"))

    def test_split(self) -> None:
        addrinfo: list[tuple[Any, Any]] = [
            (AF1, "a"),
            (AF1, "b"),
            (AF2, "c"),
            (AF1, "d"),
            (AF2, "e"),
        ]
        primary, secondary = _Connector.split(addrinfo)
        self.assertEqual(primary, [(AF1, "a"), (AF1, "b"), (AF1, "d")])
        self.assertEqual(secondary, [(AF2, "c"), (AF2, "e")])

    def test_no_addresses(self) -> None:
        with self.assertRaisesRegex(ValueError, "no addresses"):
            self.make_connector([])

    @gen_test
    async def test_first_address_wins(self) -> None:
        connector = self.make_connector([(AF1, "a"), (AF2, "b")])
        future = connector.start()
        self.assertEqual(list(self.attempts), ["a"])
        stream = self.succeed("a")
        self.assertEqual(await future, (AF1, "a", stream))
        self.assertFalse(stream.closed)

    @gen_test
    async def test_failure_starts_secondary_at_once(self) -> None:
        connector = self.make_connector([(AF1, "a"), (AF2, "b")])
        future = connector.start()
        self.refuse("a")
        await gen.moment  # done callbacks run on the next loop iteration
        self.assertEqual(list(self.attempts), ["a", "b"])
        self.assertIsNone(connector.timeout)
        stream = self.succeed("b")
        self.assertEqual(await future, (AF2, "b", stream))

    @gen_test
    async def test_primary_addresses_tried_in_turn(self) -> None:
        connector = self.make_connector([(AF1, "a"), (AF1, "b"), (AF1, "c")])
        future = connector.start()
        self.refuse("a")
        await gen.moment
        self.refuse("b")
        await gen.moment
        self.assertEqual(list(self.attempts), ["a", "b", "c"])
        stream = self.succeed("c")
        self.assertEqual((await future)[2], stream)

    @gen_test
    async def test_secondary_after_timeout_and_loser_closed(self) -> None:
        connector = self.make_connector([(AF1, "a"), (AF2, "b")])
        future = connector.start(timeout=0.01)
        self.attempted.clear()
        await self.attempted.wait()  # the secondary attempt, after the timeout
        self.assertEqual(list(self.attempts), ["a", "b"])
        winner = self.succeed("b")
        self.assertEqual(await future, (AF2, "b", winner))
        self.assertTrue(self.attempts["a"][0].closed)
        late = self.succeed("a")  # a late arrival is closed too
        await gen.moment
        self.assertTrue(late.closed)
        self.assertFalse(winner.closed)

    @gen_test
    async def test_all_fail_with_last_error(self) -> None:
        connector = self.make_connector([(AF1, "a"), (AF2, "b")])
        future = connector.start()
        self.refuse("a")
        await gen.moment
        self.refuse("b")
        with self.assertRaisesRegex(OSError, "b refused"):
            await future

    @gen_test
    async def test_connect_timeout(self) -> None:
        connector = self.make_connector([(AF1, "a"), (AF2, "b")])
        future = connector.start(connect_timeout=self.io_loop.time() + 0.01)
        with self.assertRaises(TimeoutError):
            await future
        self.assertTrue(all(stream.closed for stream, _ in self.attempts.values()))

    @gen_test
    async def test_connect_function_error_counts_as_failure(self) -> None:
        def refusing_connect(af: socket.AddressFamily, addr: Any) -> tuple[Any, Any]:
            raise OSError("cannot bind")

        connector = _Connector([(AF1, ("a", 1))], refusing_connect)
        with self.assertRaisesRegex(OSError, "cannot bind"):
            await connector.start()
