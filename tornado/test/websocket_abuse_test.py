"""WebSocket peers that misbehave on purpose: ping floods that never read,
floods of small frames, clients left unclosed or closed while blocked."""

from __future__ import annotations

import asyncio
import gc
import socket
import subprocess
import sys
import warnings
from typing import Any

from tornado import _websocket_wire as wire
from tornado.concurrent import Future
from tornado.testing import AsyncHTTPTestCase, gen_test
from tornado.web import Application, RequestHandler
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketHandler,
    websocket_connect,
)

HANDSHAKE_TEMPLATE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)


def resolve(future: Future[Any], value: Any = None) -> None:
    if not future.done():
        future.set_result(value)


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.write("hello")


class QuietSenderHandler(WebSocketHandler):
    """Keeps its kernel send buffer small, so unsent pongs would show."""

    def initialize(self, test: AbuseTestCase) -> None:
        self.test = test

    def open(self) -> None:
        assert self.ws_connection is not None and self.ws_connection.stream
        sock = self.ws_connection.stream.socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

    def on_message(self, message: str | bytes) -> None:
        resolve(self.test.done_received)


class CountingHandler(WebSocketHandler):
    """Handles each message as a coroutine that never has to wait."""

    def initialize(self, test: AbuseTestCase) -> None:
        self.test = test

    async def on_message(self, message: str | bytes) -> None:
        self.test.messages += 1
        if self.test.messages == 1000:
            resolve(self.test.flooding)


class SendTwoThenCloseHandler(WebSocketHandler):
    def initialize(self, test: AbuseTestCase) -> None:
        self.test = test

    def on_message(self, message: str | bytes) -> None:
        self.write_message("1")
        self.write_message("2")
        self.close()

    def on_close(self) -> None:
        resolve(self.test.server_closed)


class AbuseTestCase(AsyncHTTPTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.done_received: Future[None] = Future()
        self.flooding: Future[None] = Future()
        self.server_closed: Future[None] = Future()
        self.messages = 0

    def get_app(self) -> Application:
        test = {"test": self}
        return Application(
            [
                ("/hello", HelloHandler),
                ("/quiet", QuietSenderHandler, test),
                ("/count", CountingHandler, test),
                ("/two_then_close", SendTwoThenCloseHandler, test),
            ],
            log_function=lambda handler: None,
        )

    def handshake(self, path: str) -> bytes:
        return HANDSHAKE_TEMPLATE.format(path=path).encode()

    async def raw_connect(
        self, path: str, receive_buffer: int | None = None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        sock = socket.socket()
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(
            sock, ("127.0.0.1", self.get_http_port())
        )
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(self.handshake(path))
        head = await reader.readuntil(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101 "), head)
        return reader, writer


class WebSocketAbuseTest(AbuseTestCase):
    @gen_test(timeout=30)
    async def test_ping_flood_without_reading_owes_one_pong(self) -> None:
        count = 5000
        reader, writer = await self.raw_connect("/quiet", receive_buffer=4096)
        payloads = [b"%0125d" % i for i in range(count)]
        for payload in payloads:
            writer.write(wire.encode_frame(wire.OPCODE_PING, payload, mask=True))
        writer.write(wire.encode_frame(wire.OPCODE_TEXT, b"done", mask=True))
        await writer.drain()
        # Every ping has been handled once the server saw the message after.
        await self.done_received
        parser = wire.FrameParser(expect_masked=False)
        pongs: list[bytes] = []
        while not pongs or pongs[-1] != payloads[-1]:
            for frame in parser.feed(await reader.read(65536)):
                self.assertEqual(frame.opcode, wire.OPCODE_PONG)
                pongs.append(frame.payload)
        # Only what the kernel buffers took, plus the one pong owed.
        self.assertLess(len(pongs), count // 4)
        self.assertEqual(pongs, sorted(pongs))
        writer.close()

    @gen_test(timeout=60)
    async def test_small_frame_flood_does_not_starve_others(self) -> None:
        # Another process floods, so the flood does not compete with the
        # server for this interpreter's lock.
        flooder = subprocess.Popen(
            [sys.executable, "-c", FLOODER, str(self.get_http_port())],
            stdin=subprocess.DEVNULL,
        )
        try:
            await self.flooding
            # Flood messages the server handled while each request was
            # served: a count, not a time, so a loaded machine cannot make
            # it flake.  A fair server handles a few reads' worth (7,000 to
            # 40,000 here); one that drained the flood first would handle
            # everything sent until the flooder gives up (millions).
            handled_meanwhile = []
            for _ in range(3):
                before = self.messages
                response = await self.http_client.fetch(self.get_url("/hello"))
                handled_meanwhile.append(self.messages - before)
                self.assertEqual(response.body, b"hello")
            self.assertIsNone(flooder.poll(), "the flood ended before the requests")
        finally:
            flooder.kill()
            flooder.wait()
        self.assertLess(min(handled_meanwhile), 200_000, handled_meanwhile)


#: Connects to the port given, upgrades, then sends masked 8-byte text
#: frames as fast as it can for at most 30 seconds.
FLOODER = f"""
import socket, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.sendall({HANDSHAKE_TEMPLATE!r}.format(path="/count").encode())
mask = b"\\x01\\x02\\x03\\x04"
payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"12345678"))
chunk = (b"\\x81\\x88" + mask + payload) * 20000
deadline = time.monotonic() + 30
try:
    while time.monotonic() < deadline:
        sock.sendall(chunk)
except OSError:
    pass
"""


def notify_on_message(ws: WebSocketClientConnection, awaited: str) -> Future[None]:
    """A future resolved once ``ws`` has handed ``awaited`` to its reader."""
    seen: Future[None] = Future()
    deliver = ws.on_message

    def watch(message: str | bytes) -> Any:
        result = deliver(message)
        if message == awaited:
            resolve(seen)
        return result

    ws.on_message = watch  # type: ignore[method-assign]
    return seen


class WebSocketClientCleanupTest(AbuseTestCase):
    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.get_http_port()}{path}"

    @gen_test
    async def test_code_stays_none_after_handshake(self) -> None:
        ws = await websocket_connect(self.url("/quiet"))
        self.assertIsNone(ws.code)
        ws.close()

    @gen_test
    async def test_server_closes_then_client_closes(self) -> None:
        ws = await websocket_connect(self.url("/two_then_close"))
        second = notify_on_message(ws, "2")
        ws.write_message("go")
        # "1" waits in the read queue, "2" for room in it, and the frame
        # loop for "2": the server's close frame is not read yet.
        await second
        assert ws.protocol is not None and ws.protocol.stream is not None
        stream = ws.protocol.stream
        ws.close()
        await self.server_closed
        self.assertEqual(await ws.read_message(), "1")
        self.assertIsNone(await ws.read_message())
        self.assertTrue(stream.closed())
        pending = [
            task
            for task in asyncio.all_tasks()
            if "WebSocketProtocol" in task.get_coro().__qualname__  # type: ignore[union-attr]
        ]
        self.assertEqual(pending, [])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del ws
            gc.collect()
        self.assertEqual([str(w.message) for w in caught], [])

    @gen_test
    async def test_unclosed_client_warns_even_if_server_closed(self) -> None:
        ws = await websocket_connect(self.url("/two_then_close"))
        ws.write_message("go")
        self.assertEqual(await ws.read_message(), "1")
        self.assertEqual(await ws.read_message(), "2")
        self.assertIsNone(await ws.read_message())
        await self.server_closed
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del ws
            gc.collect()
        messages = [(w.category, str(w.message)) for w in caught]
        self.assertEqual(
            messages, [(ResourceWarning, "Unclosed WebSocketClientConnection")]
        )
