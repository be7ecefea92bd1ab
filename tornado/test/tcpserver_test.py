"""Tests for tornado.tcpserver: listening, TLS, handler errors, stop and start."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import unittest
from typing import Any

from tornado import gen
from tornado.concurrent import Future
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.tcpserver import TCPServer
from tornado.test.iostream_test import CERTFILE, KEYFILE
from tornado.test.util import (
    REPO_ROOT,
    client_ssl_context,
    ipv6_available,
    server_ssl_context,
)
from tornado.testing import AsyncTestCase, ExpectLog, bind_unused_port, gen_test


class EchoServer(TCPServer):
    """Echoes lines; remembers the streams and addresses it was given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.streams: list[IOStream] = []
        self.addresses: list[Any] = []

    async def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.streams.append(stream)
        self.addresses.append(address)
        try:
            while True:
                await stream.write(await stream.read_until(b"\n"))
        except StreamClosedError:
            pass


class TCPServerTest(AsyncTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.servers: list[TCPServer] = []
        self.clients: list[IOStream] = []

    def tearDown(self) -> None:
        for client in self.clients:
            client.close()
        for server in self.servers:
            server.stop()
            for stream in getattr(server, "streams", []):
                stream.close()
        super().tearDown()

    def start_server(
        self, server: TCPServer, address: str = "127.0.0.1"
    ) -> tuple[TCPServer, int]:
        sock, port = bind_unused_port(address=address)
        server.add_socket(sock)
        self.servers.append(server)
        return server, port

    async def connect(
        self,
        port: int,
        host: str = "127.0.0.1",
        family: socket.AddressFamily = socket.AF_INET,
        ssl_options: ssl.SSLContext | None = None,
    ) -> IOStream:
        stream: IOStream
        if ssl_options is None:
            stream = IOStream(socket.socket(family))
        else:
            stream = SSLIOStream(socket.socket(family), ssl_options=ssl_options)
        self.clients.append(stream)
        return await stream.connect((host, port), server_hostname="localhost")

    async def assert_echoes(self, stream: IOStream, line: bytes = b"hello\n") -> None:
        await stream.write(line)
        self.assertEqual(await stream.read_until(b"\n"), line)

    @gen_test
    async def test_echo(self) -> None:
        server, port = self.start_server(EchoServer())
        client = await self.connect(port)
        await self.assert_echoes(client)
        assert isinstance(server, EchoServer)
        self.assertEqual(server.addresses[0], client.socket.getsockname())

    @unittest.skipUnless(ipv6_available(), "IPv6 is not available on this machine")
    @gen_test
    async def test_echo_ipv6(self) -> None:
        server, port = self.start_server(EchoServer(), address="::1")
        client = await self.connect(port, host="::1", family=socket.AF_INET6)
        await self.assert_echoes(client)

    @gen_test
    async def test_listen(self) -> None:
        sock, port = bind_unused_port()
        sock.close()  # free the port for listen() to take
        server = EchoServer()
        self.servers.append(server)
        server.listen(port, address="127.0.0.1")
        await self.assert_echoes(await self.connect(port))

    @gen_test
    async def test_bind_then_start(self) -> None:
        sock, port = bind_unused_port()
        sock.close()
        server = EchoServer()
        self.servers.append(server)
        server.bind(port, address="127.0.0.1", family=socket.AF_INET)
        server.start()
        await self.assert_echoes(await self.connect(port))
        with self.assertRaises(RuntimeError):
            server.start()

    @gen_test
    async def test_bind_after_start(self) -> None:
        server = EchoServer()
        self.servers.append(server)
        server.start()
        sock, port = bind_unused_port()
        sock.close()
        server.bind(port, address="127.0.0.1")
        await self.assert_echoes(await self.connect(port))

    @gen_test
    async def test_stream_options_are_passed_on(self) -> None:
        server, port = self.start_server(
            EchoServer(max_buffer_size=1000, read_chunk_size=100)
        )
        client = await self.connect(port)
        await self.assert_echoes(client)
        assert isinstance(server, EchoServer)
        self.assertEqual(server.streams[0].max_buffer_size, 1000)
        self.assertEqual(server.streams[0].read_chunk_size, 100)

    @gen_test
    async def test_stop(self) -> None:
        server, port = self.start_server(EchoServer())
        client = await self.connect(port)
        server.stop()
        server.stop()  # a second stop does nothing
        # Connections already made stay up ...
        await self.assert_echoes(client)
        # ... but the port no longer accepts new ones.
        with self.assertRaises(StreamClosedError) as caught:
            await self.connect(port)
        self.assertIsInstance(caught.exception.real_error, ConnectionRefusedError)

    @gen_test
    async def test_handle_stream_error_is_logged(self) -> None:
        class FailingServer(TCPServer):
            def handle_stream(self, stream: IOStream, address: Any) -> None:
                stream.close()
                raise ValueError("handler failed")

        server, port = self.start_server(FailingServer())
        with ExpectLog(app_log, "Error in connection callback", level=logging.ERROR):
            client = await self.connect(port)
            await client.read_until_close()

    @gen_test
    async def test_coroutine_handle_stream_error_is_logged(self) -> None:
        handled: Future[None] = Future()

        class FailingServer(TCPServer):
            async def handle_stream(self, stream: IOStream, address: Any) -> None:
                await stream.read_until(b"\n")
                stream.close()
                handled.set_result(None)
                raise ValueError("coroutine handler failed")

        server, port = self.start_server(FailingServer())
        with ExpectLog(app_log, "Exception in callback", level=logging.ERROR) as log:
            client = await self.connect(port)
            await client.write(b"go\n")
            await client.read_until_close()
            await handled
            # The failure is logged once the loop runs the future's callback.
            while not log.matched:
                await gen.moment

    @gen_test
    async def test_tls_with_context(self) -> None:
        server, port = self.start_server(EchoServer(ssl_options=server_ssl_context()))
        client = await self.connect(port, ssl_options=client_ssl_context())
        self.assertIsInstance(client, SSLIOStream)
        await self.assert_echoes(client)

    @gen_test
    async def test_tls_with_dict(self) -> None:
        server, port = self.start_server(
            EchoServer(ssl_options={"certfile": CERTFILE, "keyfile": KEYFILE})
        )
        client = await self.connect(port, ssl_options=client_ssl_context())
        await self.assert_echoes(client)
        assert isinstance(server, EchoServer)
        self.assertIsInstance(server.streams[0], SSLIOStream)

    @gen_test
    async def test_plaintext_client_on_tls_port(self) -> None:
        server, port = self.start_server(EchoServer(ssl_options=server_ssl_context()))
        client = await self.connect(port)
        with self.assertLogs(gen_log, logging.WARNING) as logs:
            await client.write(b"hello in the clear\n")
            await client.read_until_close()  # the server hangs up
            assert isinstance(server, EchoServer)
            while not server.streams[0].closed():
                await gen.moment
        self.assertEqual(len(logs.records), 1)
        self.assertRegex(logs.records[0].getMessage(), "^SSL Error")

    def test_ssl_options_checked_at_construction(self) -> None:
        with self.assertRaisesRegex(KeyError, "certfile"):
            TCPServer(ssl_options={"keyfile": KEYFILE})
        with self.assertRaisesRegex(ValueError, "certfile .* does not exist"):
            TCPServer(ssl_options={"certfile": "/nonexistent/cert.pem"})
        with self.assertRaisesRegex(ValueError, "keyfile .* does not exist"):
            TCPServer(ssl_options={"certfile": CERTFILE, "keyfile": "/nonexistent"})
        with self.assertRaisesRegex(TypeError, "ssl_options"):
            TCPServer(ssl_options="yes please")  # type: ignore[arg-type]


@unittest.skipIf(sys.platform == "win32", "fork is not available on Windows")
class MultiProcessTest(unittest.TestCase):
    """start(num_processes) forks workers; run in a fresh interpreter."""

    def run_script(self, body: str) -> str:
        script = textwrap.dedent("""
            import os, socket, sys
            from tornado import process
            from tornado.tcpserver import TCPServer
            from tornado.ioloop import IOLoop

            class Server(TCPServer):
                def handle_stream(self, stream, address):
                    stream.close()
            """) + textwrap.dedent(body)
        env = dict(os.environ, PYTHONPATH=REPO_ROOT)
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_start_forks_processes(self) -> None:
        output = self.run_script("""
            server = Server()
            server.bind(0, address="127.0.0.1")
            server.start(3)
            # Each worker reports its id and the listening port, then exits.
            port = next(iter(server._sockets.values())).getsockname()[1]
            os.write(1, f"{process.task_id()} {port}\\n".encode())  # one atomic write
            server.stop()
            """)
        lines = sorted(output.split("\n")[:-1])
        self.assertEqual([line.split()[0] for line in lines], ["0", "1", "2"])
        self.assertEqual(len({line.split()[1] for line in lines}), 1)

    def test_single_process_start(self) -> None:
        output = self.run_script("""
            async def main():
                server = Server()
                server.bind(0, address="127.0.0.1")
                server.start(1)
                print(process.task_id())
                server.stop()
            IOLoop.current().run_sync(main)
            """)
        self.assertEqual(output, "None\n")
