"""A client closing a WebSocket while the server's coroutine ``open`` still waits.

The pattern of jupyter_server's kernel-channels handler (its ``open``
awaits the kernel) under a test client that connects and closes at once:
the close frame waits, unread, until ``open`` returns; then the server
answers it, ``on_close`` runs once and both ends let their sockets go,
leaving no task behind and nothing for the garbage collector to warn about.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import warnings
from collections.abc import Iterator

from tornado.concurrent import Future
from tornado.iostream import IOStream
from tornado.testing import AsyncHTTPTestCase, gen_test
from tornado.web import Application
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketHandler,
    websocket_connect,
)


class WaitingOpenHandler(WebSocketHandler):
    """``open`` waits for the test's gate, like a handler awaiting a backend."""

    def initialize(self, test: PendingOpenTest) -> None:
        self.test = test
        self.opened = False

    async def open(self) -> None:
        self.test.handler = self
        self.test.started.set_result(None)
        await self.test.gate
        self.opened = True

    def on_message(self, message: str | bytes) -> None:
        self.test.messages.append(message)

    def on_close(self) -> None:
        self.test.close_calls.append(self.opened)
        if not self.test.closed.done():
            self.test.closed.set_result((self.close_code, self.close_reason))


class PendingOpenTest(AsyncHTTPTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.started: Future[None] = Future()
        self.gate: Future[None] = Future()
        self.closed: Future[tuple[int | None, str | None]] = Future()
        self.close_calls: list[bool] = []
        self.messages: list[str | bytes] = []
        self.handler: WaitingOpenHandler | None = None

    def get_app(self) -> Application:
        return Application(
            [("/", WaitingOpenHandler, {"test": self})],
            log_function=lambda handler: None,
        )

    def server_stream(self) -> IOStream:
        assert self.handler is not None and self.handler.ws_connection is not None
        stream = self.handler.ws_connection.stream
        assert stream is not None
        return stream

    async def connect_while_open_waits(
        self,
    ) -> tuple[WebSocketClientConnection, IOStream, IOStream]:
        """Connect, and wait until the server's open() has started waiting."""
        ws = await websocket_connect(f"ws://127.0.0.1:{self.get_http_port()}/")
        await self.started
        assert ws.protocol is not None and ws.protocol.stream is not None
        return ws, self.server_stream(), ws.protocol.stream

    async def settle(self) -> None:
        """Let the loop run the callbacks already due (no waiting on time)."""
        for _ in range(5):
            await asyncio.sleep(0)

    def new_tasks(self, before: set[asyncio.Task[object]]) -> set[asyncio.Task[object]]:
        """Tasks still pending that were not there at the start of the test."""
        return {task for task in asyncio.all_tasks() - before if not task.done()}

    @contextlib.contextmanager
    def no_resource_warnings(self) -> Iterator[None]:
        """Fail if dropping the references of the block leaks a resource.

        The collection runs inside the capture, so a socket or transport
        left open warns here, whether freed by its count or by `gc`.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            gc.collect()
            gc.collect()
        leaks = [str(w.message) for w in caught if w.category is ResourceWarning]
        self.assertEqual(leaks, [])

    @gen_test
    async def test_close_while_open_pending(self) -> None:
        before = asyncio.all_tasks()
        ws, server_stream, client_stream = await self.connect_while_open_waits()
        ws.write_message("early")
        ws.close(1000, "bye")
        await self.settle()
        # Nothing is read while open() waits: no message, no on_close yet.
        self.assertEqual(self.close_calls, [])
        self.assertEqual(self.messages, [])
        self.assertFalse(server_stream.closed())

        self.gate.set_result(None)
        self.assertEqual(await self.closed, (1000, "bye"))
        self.assertIsNone(await ws.read_message())
        self.assertEqual(self.close_calls, [True])  # once, after open() returned
        self.assertEqual(self.messages, ["early"])
        self.assertEqual(ws.close_code, 1000)
        self.assertTrue(server_stream.closed())
        self.assertTrue(client_stream.closed())
        await self.settle()
        self.assertEqual(self.new_tasks(before), set())
        with self.no_resource_warnings():
            del ws, server_stream, client_stream
            self.handler = None

    @gen_test
    async def test_connection_lost_while_open_pending(self) -> None:
        before = asyncio.all_tasks()
        ws, server_stream, client_stream = await self.connect_while_open_waits()
        # The client vanishes without a closing handshake (reset).
        sock = client_stream.socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
        client_stream.close()
        self.assertIsNone(await ws.read_message())
        ws.close()
        # The server notices at once: its stream closes, though open() waits.
        lost: Future[None] = Future()
        if server_stream.closed():
            lost.set_result(None)
        else:
            server_stream.set_close_callback(lambda: lost.set_result(None))
        await lost
        self.assertEqual(self.close_calls, [])

        self.gate.set_result(None)
        self.assertEqual(await self.closed, (None, None))
        self.assertEqual(self.close_calls, [True])
        await self.settle()
        self.assertEqual(self.new_tasks(before), set())
        with self.no_resource_warnings():
            del ws, server_stream, client_stream, sock
            self.handler = None
