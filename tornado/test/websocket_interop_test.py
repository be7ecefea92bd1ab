"""Interoperability with an independent implementation: the ``websockets`` library.

Its client talks to our `WebSocketHandler`, and our `websocket_connect` talks
to its server: text, binary, fragmented and compressed messages, pings and
the closing handshake in both directions.
"""

from __future__ import annotations

import logging
import unittest
from typing import Any

from tornado.concurrent import Future
from tornado.testing import AsyncHTTPTestCase, AsyncTestCase, gen_test
from tornado.web import Application
from tornado.websocket import WebSocketClosedError, WebSocketHandler, websocket_connect

try:
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import Server, ServerConnection, serve
    from websockets.exceptions import ConnectionClosed
    from websockets.extensions.permessage_deflate import (
        ClientPerMessageDeflateFactory,
        ServerPerMessageDeflateFactory,
    )
except ImportError:
    connect = None  # type: ignore[assignment,misc]

#: The peer library logs its connections at INFO; only its problems matter.
PEER_LOG = logging.getLogger("tornado.test.websocket_interop.peer")
PEER_LOG.setLevel(logging.WARNING)

needs_websockets = unittest.skipIf(
    connect is None, "the websockets library is not installed"
)


def resolve(future: Future[Any], value: Any = None) -> None:
    if not future.done():
        future.set_result(value)


class InteropHandler(WebSocketHandler):
    """Echoes; ``close CODE REASON`` closes; reports pings and the close."""

    def initialize(self, test: OurServerTest) -> None:
        self.test = test

    def get_compression_options(self) -> dict[str, Any] | None:
        return {}

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "chat" if "chat" in subprotocols else None

    def on_message(self, message: str | bytes) -> None:
        if isinstance(message, str) and message.startswith("close "):
            _, code, reason = message.split(" ", 2)
            self.close(int(code), reason)
            return
        self.write_message(message, binary=isinstance(message, bytes))

    def on_ping(self, data: bytes) -> None:
        resolve(self.test.pinged, data)

    def on_close(self) -> None:
        resolve(self.test.closed, (self.close_code, self.close_reason))


class PingingHandler(InteropHandler):
    @property
    def ping_interval(self) -> float | None:
        return 0.05

    def on_pong(self, data: bytes) -> None:
        self.test.pongs += 1
        if self.test.pongs == 3:
            resolve(self.test.ponged)


class LimitedHandler(InteropHandler):
    @property
    def max_message_size(self) -> int:
        return 1000


@needs_websockets
class OurServerTest(AsyncHTTPTestCase):
    """The ``websockets`` client against `WebSocketHandler`."""

    def setUp(self) -> None:
        super().setUp()
        self.closed: Future[tuple[int | None, str | None]] = Future()
        self.pinged: Future[bytes] = Future()
        self.ponged: Future[None] = Future()
        self.pongs = 0

    def get_app(self) -> Application:
        return Application(
            [
                ("/", InteropHandler, dict(test=self)),
                ("/pinging", PingingHandler, dict(test=self)),
                ("/limited", LimitedHandler, dict(test=self)),
            ],
            log_function=lambda handler: None,
        )

    def peer(self, path: str = "/", **kwargs: Any) -> Any:
        url = f"ws://127.0.0.1:{self.get_http_port()}{path}"
        return connect(url, logger=PEER_LOG, **kwargs)

    @gen_test
    async def test_text_and_binary(self) -> None:
        async with self.peer(compression=None) as ws:
            self.assertEqual(ws.protocol.extensions, [])
            await ws.send("héllo")
            self.assertEqual(await ws.recv(), "héllo")
            await ws.send(b"\x00\x01\xff")
            self.assertEqual(await ws.recv(), b"\x00\x01\xff")
            big = bytes(range(256)) * 4096
            await ws.send(big)
            self.assertEqual(await ws.recv(), big)

    @gen_test
    async def test_fragmented(self) -> None:
        async with self.peer(compression=None) as ws:
            await ws.send(["frag", "mented", " text"])
            self.assertEqual(await ws.recv(), "fragmented text")
            await ws.send([b"bin", b"ary"])
            self.assertEqual(await ws.recv(), b"binary")

    @gen_test
    async def test_compressed(self) -> None:
        async with self.peer() as ws:
            self.assertEqual(len(ws.protocol.extensions), 1)
            for _ in range(3):
                await ws.send("compress me " * 1000)
                self.assertEqual(await ws.recv(), "compress me " * 1000)
            await ws.send(["compressed ", "and ", "fragmented"])
            self.assertEqual(await ws.recv(), "compressed and fragmented")

    @gen_test
    async def test_compressed_with_parameters(self) -> None:
        factory = ClientPerMessageDeflateFactory(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=10,
            client_max_window_bits=10,
        )
        async with self.peer(extensions=[factory], compression=None) as ws:
            (extension,) = ws.protocol.extensions
            self.assertEqual(extension.remote_max_window_bits, 10)
            for text in ("first " * 500, "second " * 500, "first " * 500):
                await ws.send(text)
                self.assertEqual(await ws.recv(), text)

    @gen_test
    async def test_subprotocol(self) -> None:
        async with self.peer(subprotocols=["other", "chat"]) as ws:
            self.assertEqual(ws.subprotocol, "chat")

    @gen_test
    async def test_client_closes(self) -> None:
        async with self.peer() as ws:
            await ws.close(4001, "client done")
        self.assertEqual(await self.closed, (4001, "client done"))
        self.assertEqual(ws.close_code, 4001)

    @gen_test
    async def test_server_closes(self) -> None:
        async with self.peer() as ws:
            await ws.send("close 4002 server done")
            with self.assertRaises(ConnectionClosed) as cm:
                await ws.recv()
        received = cm.exception.rcvd
        assert received is not None
        self.assertEqual((received.code, received.reason), (4002, "server done"))
        self.assertEqual(await self.closed, (4002, "server done"))

    @gen_test
    async def test_ping_from_client(self) -> None:
        async with self.peer() as ws:
            pong_waiter = await ws.ping(b"are you there")
            await pong_waiter
            self.assertEqual(await self.pinged, b"are you there")

    @gen_test
    async def test_server_keepalive_pings(self) -> None:
        async with self.peer("/pinging") as ws:
            await self.ponged  # three pings answered by the peer
            await ws.send("alive")
            self.assertEqual(await ws.recv(), "alive")

    @gen_test
    async def test_too_big_message(self) -> None:
        async with self.peer("/limited") as ws:
            await ws.send("x" * 1001)
            with self.assertRaises(ConnectionClosed) as cm:
                await ws.recv()
        received = cm.exception.rcvd
        assert received is not None
        self.assertEqual(received.code, 1009)


@needs_websockets
class OurClientTest(AsyncTestCase):
    """`websocket_connect` against the ``websockets`` server."""

    def setUp(self) -> None:
        super().setUp()
        self.peer_closed: Future[tuple[int | None, str]] = Future()

    async def echo(self, ws: ServerConnection) -> None:
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    await ws.send(message)
                elif message.startswith("close "):
                    _, code, reason = message.split(" ", 2)
                    await ws.close(int(code), reason)
                elif message == "fragments please":
                    await ws.send(["several ", "frag", "ments"])
                elif message == "ping me":
                    await (await ws.ping(b"server ping"))
                    await ws.send("pong received")
                else:
                    await ws.send(message)
        except ConnectionClosed:
            pass  # closed with an error code: what some tests are about
        finally:
            resolve(self.peer_closed, (ws.close_code, ws.close_reason))

    async def start_peer(self, **kwargs: Any) -> tuple[Server, str]:
        kwargs.setdefault("max_size", None)
        server = await serve(self.echo, "127.0.0.1", 0, logger=PEER_LOG, **kwargs)
        port = server.sockets[0].getsockname()[1]
        return server, f"ws://127.0.0.1:{port}/"

    async def run_with_peer(self, body: Any, **kwargs: Any) -> None:
        server, url = await self.start_peer(**kwargs)
        try:
            await body(url)
        finally:
            server.close()
            await server.wait_closed()

    @gen_test
    async def test_text_and_binary(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url)
            await ws.write_message("héllo")
            self.assertEqual(await ws.read_message(), "héllo")
            ws.write_message(b"\x00\xff", binary=True)
            self.assertEqual(await ws.read_message(), b"\x00\xff")
            big = bytes(range(256)) * 4096
            ws.write_message(big, binary=True)
            self.assertEqual(await ws.read_message(), big)
            ws.close()

        await self.run_with_peer(body)

    @gen_test
    async def test_fragmented_from_server(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url)
            ws.write_message("fragments please")
            self.assertEqual(await ws.read_message(), "several fragments")
            ws.close()

        await self.run_with_peer(body)

    @gen_test
    async def test_compressed(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url, compression_options={})
            for _ in range(3):
                ws.write_message("squeeze " * 1000)
                self.assertEqual(await ws.read_message(), "squeeze " * 1000)
            ws.write_message("fragments please")
            self.assertEqual(await ws.read_message(), "several fragments")
            ws.close()

        await self.run_with_peer(body)

    @gen_test
    async def test_compressed_with_server_parameters(self) -> None:
        factory = ServerPerMessageDeflateFactory(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=9,
            client_max_window_bits=10,
            require_client_max_window_bits=True,
        )

        async def body(url: str) -> None:
            ws = await websocket_connect(url, compression_options={})
            for text in ("one " * 700, "two " * 700, "one " * 700):
                ws.write_message(text)
                self.assertEqual(await ws.read_message(), text)
            ws.close()

        await self.run_with_peer(body, extensions=[factory], compression=None)

    @gen_test
    async def test_subprotocol(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url, subprotocols=["chat", "other"])
            self.assertEqual(ws.selected_subprotocol, "chat")
            ws.close()

        await self.run_with_peer(body, subprotocols=["chat"])

    @gen_test
    async def test_server_closes(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url)
            ws.write_message("close 4003 server says bye")
            self.assertIsNone(await ws.read_message())
            self.assertEqual(
                (ws.close_code, ws.close_reason), (4003, "server says bye")
            )
            with self.assertRaises(WebSocketClosedError):
                ws.write_message("too late")
            ws.close()

        await self.run_with_peer(body)

    @gen_test
    async def test_client_closes(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url)
            ws.close(4004, "client says bye")
            self.assertIsNone(await ws.read_message())
            self.assertEqual(await self.peer_closed, (4004, "client says bye"))
            self.assertEqual(ws.close_code, 4004)

        await self.run_with_peer(body)

    @gen_test
    async def test_pings_both_ways(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url)
            pong: Future[bytes] = Future()
            ws.on_pong = lambda data: resolve(pong, data)  # type: ignore[method-assign]
            ws.ping(b"client ping")
            self.assertEqual(await pong, b"client ping")
            ws.write_message("ping me")
            self.assertEqual(await ws.read_message(), "pong received")
            ws.close()

        await self.run_with_peer(body)

    @gen_test
    async def test_client_keepalive(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url, ping_interval=0.05)
            pongs: list[bytes] = []
            three: Future[None] = Future()

            def on_pong(data: bytes) -> None:
                pongs.append(data)
                if len(pongs) == 3:
                    resolve(three)

            ws.on_pong = on_pong  # type: ignore[method-assign]
            await three
            ws.write_message("alive")
            self.assertEqual(await ws.read_message(), "alive")
            ws.close()

        await self.run_with_peer(body)

    @gen_test
    async def test_message_too_big_for_peer(self) -> None:
        async def body(url: str) -> None:
            ws = await websocket_connect(url)
            ws.write_message("x" * 101)
            self.assertIsNone(await ws.read_message())
            self.assertEqual(ws.close_code, 1009)
            ws.close()

        await self.run_with_peer(body, max_size=100)
