"""Helpers of the HTTP/2 tests: a server on a loopback port, raw frame clients.

`H2Server` serves an `.HTTPServer`'s delegate over HTTP/2 with
`tornado._http2.HTTP2ServerProtocol`, either over TLS (ALPN ``h2``, the
suite's test certificate) or in cleartext (h2c with prior knowledge).
Once `.HTTPServer` dispatches HTTP/2 itself, `H2Server.start` becomes
``http_server.listen(port, http2=True)``.

`FrameClient` speaks raw frames: hostile clients write what they like
and read the server's frames with ``hyperframe``; well-behaved ones drive
an ``h2`` client connection (`FrameClient.h2`).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import types
from collections.abc import Callable
from typing import Any, cast

from tornado import netutil
from tornado._http2 import HTTP2ServerProtocol
from tornado.httpserver import HTTPServer, _HTTPRequestContext
from tornado.iostream import IOStream
from tornado.test.util import client_ssl_context, server_ssl_context

try:
    import h2.config
    import h2.connection
    import h2.events
    import hyperframe.frame
except ImportError as e:  # development dependencies: fail loudly, never skip
    raise ImportError(
        f'the HTTP/2 tests need the "h2" package (pip install "tornado[http2]"): {e}'
    ) from e

#: Seconds an HTTP/2 test may take.
TEST_TIMEOUT = 20.0


def server_tls_context() -> ssl.SSLContext:
    """The suite's certificate, offering ``h2`` by ALPN."""
    context = server_ssl_context()
    context.set_alpn_protocols(["h2"])
    return context


def client_tls_context() -> ssl.SSLContext:
    """A client context trusting the test certificate, asking for ``h2``."""
    context = client_ssl_context()
    context.check_hostname = False  # the certificate names localhost
    context.set_alpn_protocols(["h2"])
    return context


class H2Server:
    """Serves ``app`` over HTTP/2 on a loopback port (h2 over TLS, or h2c).

    Every connection gets an `.HTTPServer`-style request context (so
    ``remote_ip``, ``protocol`` and ``xheaders`` behave as over HTTP/1).
    With ``read_ahead``, that many bytes are read from each connection
    first and passed to the protocol before its transport exists.
    Create it on the running loop; `close` closes every connection
    gracefully and stops listening.
    """

    def __init__(
        self,
        app: Any,
        tls: bool,
        max_concurrent_streams: int = 100,
        read_ahead: int = 0,
        **server_options: Any,
    ) -> None:
        self.http_server = HTTPServer(app, **server_options)
        self.tls = tls
        #: Bytes read from each connection before the protocol takes it
        #: (cleartext only).
        self.read_ahead = read_ahead
        self.max_concurrent_streams = max_concurrent_streams
        #: Every protocol object made, open or closed.
        self.protocols: list[HTTP2ServerProtocol] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ssl = server_tls_context() if tls else None
        self._loop = asyncio.get_running_loop()
        self.start()

    def start(self) -> None:
        [self._socket] = netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.port: int = self._socket.getsockname()[1]
        self._stop_accepting = netutil.add_accept_handler(self._socket, self._accept)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def _accept(self, connection: socket.socket, address: Any) -> None:
        protocol = self.http_server.protocol or ("https" if self.tls else None)
        context = _HTTPRequestContext(
            # It only looks at the stream's socket.
            cast(IOStream, types.SimpleNamespace(socket=connection)),
            address,
            protocol,
            self.http_server.trusted_downstream,
        )
        task = self._loop.create_task(self._serve(connection, context))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, connection: socket.socket, context: object) -> None:
        # As a server sniffing the preface does: the bytes it read go to the
        # protocol before the transport exists.
        early = b""
        if self.read_ahead:
            connection.setblocking(False)
            early = await self._loop.sock_recv(connection, self.read_ahead)
        protocol = HTTP2ServerProtocol(
            self.http_server,
            self.http_server.conn_params,
            context,
            max_concurrent_streams=self.max_concurrent_streams,
        )
        self.protocols.append(protocol)
        if early:
            protocol.data_received(early)
        try:
            await self._loop.connect_accepted_socket(
                lambda: protocol, connection, ssl=self._ssl
            )
        except (OSError, ssl.SSLError):
            connection.close()  # a client that left during the handshake

    async def close(self) -> None:
        self._stop_accepting()
        self._socket.close()
        if self._tasks:
            await asyncio.gather(*self._tasks)
        await asyncio.gather(*(protocol.close() for protocol in self.protocols))


class FrameClient:
    """A client connection for writing and reading raw HTTP/2 frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        #: A client-side h2 connection, for clients that play by the rules.
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        #: Bytes written so far.
        self.sent = 0

    @classmethod
    async def connect(cls, server: H2Server, preface: bool = True) -> FrameClient:
        """Connect to ``server``; with ``preface``, send the h2 client preface."""
        context = client_tls_context() if server.tls else None
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.port, ssl=context, limit=2**20
        )
        client = cls(reader, writer)
        if preface:
            client.h2.initiate_connection()
            await client.flush()
        return client

    async def flush(self) -> None:
        """Send what the h2 connection has queued."""
        await self.write(self.h2.data_to_send())

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        self.sent += len(data)
        await self.writer.drain()

    async def read_frame(self) -> hyperframe.frame.Frame | None:
        """The next frame from the server, or ``None`` at the end of the connection."""
        try:
            header = await self.reader.readexactly(9)
            frame, length = hyperframe.frame.Frame.parse_frame_header(
                memoryview(header)
            )
            frame.parse_body(memoryview(await self.reader.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return frame

    async def frame_of(
        self,
        kind: type[hyperframe.frame.Frame],
        matching: Callable[[Any], bool] = lambda frame: True,
    ) -> Any:
        """Read frames until one of type ``kind`` (that ``matching`` accepts).

        Fails if the connection ends first.
        """
        while True:
            frame = await self.read_frame()
            if frame is None:
                raise AssertionError(f"the connection ended before a {kind.__name__}")
            if isinstance(frame, kind) and matching(frame):
                return frame

    async def events_until(
        self, condition: Callable[[h2.events.Event], bool]
    ) -> list[h2.events.Event]:
        """Feed the server's bytes to `h2` until an event meets ``condition``.

        Returns every event seen (those that came with that one included).
        Fails if the connection ends first.
        """
        seen: list[h2.events.Event] = []
        while True:
            data = await self.reader.read(65536)
            if not data:
                raise AssertionError(f"the connection ended; events: {seen}")
            events = self.h2.receive_data(data)
            seen.extend(events)
            await self.flush()
            if any(condition(event) for event in events):
                return seen

    async def ping_round_trip(self, opaque: bytes = b"roundtrp") -> None:
        """Send a PING and wait for its ACK: the server has read all before it."""
        self.h2.ping(opaque)
        await self.flush()
        await self.events_until(
            lambda event: isinstance(event, h2.events.PingAckReceived)
            and event.ping_data == opaque
        )

    async def closed_by_server(self) -> bool:
        """Read until the server ends the connection (true when it does)."""
        while await self.read_frame() is not None:
            pass
        return True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def require_command(name: str, package: str) -> str:
    """The path of the command ``name``; fails (never skips) when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(
            f"{name} is not installed; on Debian: apt-get install -y {package}"
        )
    return path


async def run_command(*argv: str) -> tuple[int, str, str]:
    """Run a command to its end: exit status, standard output, standard error."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return (
        process.returncode,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
    )
