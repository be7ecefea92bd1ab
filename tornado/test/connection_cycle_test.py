"""A closed connection is freed by reference counting alone.

When a client leaves while its response is pending (the response then
fails with `.StreamClosedError`), nothing may keep a reference cycle
around the connection: with the cyclic garbage collector off, the server's
connection object must be gone once the connection is.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import weakref

from tornado.http1connection import HTTP1ServerProtocol
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.testing import AsyncTestCase, bind_unused_port, gen_test
from tornado.web import Application, RequestHandler


class LeftHandler(RequestHandler):
    async def get(self) -> None:
        self.settings["parked"].set_result(None)
        await self.settings["left"]
        self.write("too late")
        try:
            await self.flush()
        except StreamClosedError:
            pass

    def on_connection_close(self) -> None:
        if not self.settings["left"].done():
            self.settings["left"].set_result(None)


class ConnectionCycleTest(AsyncTestCase):
    @gen_test
    async def test_connection_freed_without_the_cyclic_collector(self) -> None:
        loop = asyncio.get_running_loop()
        parked: asyncio.Future[None] = loop.create_future()
        left: asyncio.Future[None] = loop.create_future()
        app = Application(
            [("/", LeftHandler)],
            parked=parked,
            left=left,
            log_function=lambda handler: None,
        )
        sock, port = bind_unused_port()
        server = HTTPServer(app)
        server.add_sockets([sock])
        self.addCleanup(server.stop)
        client = socket.socket()
        client.setblocking(False)
        await loop.sock_connect(client, ("127.0.0.1", port))
        await loop.sock_sendall(client, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await parked
        [protocol] = server._connections
        self.assertIsInstance(protocol, HTTP1ServerProtocol)
        ref = weakref.ref(protocol)
        del protocol
        gc.collect()
        gc.disable()
        try:
            self.assertIsNotNone(ref())  # alive while connected
            client.close()
            await left
            while server._connections:
                await asyncio.sleep(0.01)
            for _ in range(5):
                await asyncio.sleep(0)  # what the close left scheduled
            self.assertIsNone(ref(), "the connection outlived its close")
        finally:
            gc.enable()
