"""A non-blocking, single-threaded TCP server.

`TCPServer` accepts connections on any number of listening sockets and
hands each one, wrapped in an `.IOStream` (or an `.SSLIOStream` when TLS is
configured), to its `TCPServer.handle_stream` method.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from tornado import gen, process
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream
from tornado.log import app_log
from tornado.netutil import (
    add_accept_handler,
    bind_sockets,
    ssl_options_to_context,
    ssl_wrap_socket,
)
from tornado.util import errno_from_exception

__all__ = ["TCPServer"]


class TCPServer:
    r"""A non-blocking, single-threaded TCP server.

    Subclass it and override `handle_stream`, which is called with an
    `.IOStream` and the client's address for every new connection::

        from tornado.tcpserver import TCPServer
        from tornado.iostream import StreamClosedError

        class EchoServer(TCPServer):
            async def handle_stream(self, stream, address):
                while True:
                    try:
                        line = await stream.read_until(b"\n")
                        await stream.write(line)
                    except StreamClosedError:
                        break

    ``ssl_options`` turns on TLS: either an `ssl.SSLContext` or a
    dictionary of options for ``SSLContext.wrap_socket`` (which must
    contain ``certfile``), e.g.::

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain("server.crt", "server.key")
        TCPServer(ssl_options=context)

    ``max_buffer_size`` and ``read_chunk_size`` are passed to each stream.

    Three ways to start serving:

    1. `listen`: simple single-process serving::

           server = EchoServer()
           server.listen(8888)
           await asyncio.Event().wait()

    2. `add_sockets`: sockets bound beforehand, typically with
       `.bind_sockets` before forking worker processes with
       `.fork_processes`, then served in each process::

           sockets = bind_sockets(8888)
           tornado.process.fork_processes(0)
           server = EchoServer()
           server.add_sockets(sockets)

    3. `bind` then `start`: the older, deprecated form of the second;
       `start` forks the processes itself, which requires that no event
       loop has been created before it is called.
    """

    def __init__(
        self,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
    ) -> None:
        #: The TLS configuration, or ``None`` for plain TCP.
        self.ssl_options = ssl_options
        #: Passed to each connection's stream.
        self.max_buffer_size = max_buffer_size
        #: Passed to each connection's stream.
        self.read_chunk_size = read_chunk_size
        self._sockets: dict[int, socket.socket] = {}
        self._remove_accept_handlers: dict[int, Callable[[], None]] = {}
        self._pending_sockets: list[socket.socket] = []
        self._started = False
        self._stopped = False
        if isinstance(ssl_options, dict):
            _check_ssl_options_files(ssl_options)
        elif ssl_options is not None and not isinstance(ssl_options, ssl.SSLContext):
            raise TypeError(
                f"ssl_options must be a dict or an ssl.SSLContext, not {ssl_options!r}"
            )

    def listen(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = 128,
        flags: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Listen on ``port`` and start accepting connections on the current loop.

        The arguments are those of `.bind_sockets`: an empty or ``None``
        ``address`` listens on all interfaces (IPv4 and IPv6 where
        available).  May be called several times to listen on several
        ports.
        """
        self.add_sockets(
            bind_sockets(port, address, family, backlog, flags, reuse_port)
        )

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Accept connections on the given listening sockets (see `.bind_sockets`)."""
        protocol_factory = self._protocol_factory()
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            if protocol_factory is None:
                remove = add_accept_handler(sock, self._handle_connection)
            else:
                remove = self._serve_with_protocols(sock, protocol_factory)
            self._remove_accept_handlers[sock.fileno()] = remove

    def _protocol_factory(self) -> Callable[[], asyncio.BaseProtocol] | None:
        """Makes the protocol of each connection, if the loop is to accept.

        ``None`` (the default) accepts connections here and hands each to
        `handle_stream` as a stream; a subclass serving its connections as
        asyncio protocols returns their factory, and the event loop then
        accepts and (with ``ssl_options``) completes the TLS handshake.
        """
        return None

    def _tls_context(self) -> ssl.SSLContext | None:
        """The TLS context the loop's transports use, if TLS is on."""
        if self.ssl_options is None:
            return None
        return ssl_options_to_context(self.ssl_options, server_side=True)

    def _serve_with_protocols(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
    ) -> Callable[[], None]:
        """Accept on ``sock``, serving each connection from a loop transport.

        Returns what stops accepting.
        """
        tls = self._tls_context()
        loop: asyncio.AbstractEventLoop = cast(Any, IOLoop.current()).asyncio_loop

        def accept(connection: socket.socket, address: Any) -> None:
            task = loop.create_task(
                _connect_accepted(loop, connection, protocol_factory, tls)
            )
            _connecting.add(task)
            task.add_done_callback(_connecting.discard)

        return add_accept_handler(sock, accept)

    def add_socket(self, socket: socket.socket) -> None:
        """Accept connections on one listening socket."""
        self.add_sockets([socket])

    def bind(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = 128,
        flags: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Bind to ``port`` now; connections are accepted once `start` is called.

        The arguments are those of `listen`.  May be called several times
        before `start`.  Deprecated along with `start`: use `listen`, or
        `.bind_sockets` with `add_sockets`.
        """
        sockets = bind_sockets(port, address, family, backlog, flags, reuse_port)
        if self._started:
            self.add_sockets(sockets)
        else:
            self._pending_sockets.extend(sockets)

    def start(
        self, num_processes: int | None = 1, max_restarts: int | None = None
    ) -> None:
        """Start accepting on the sockets given to `bind`, maybe in several processes.

        With ``num_processes`` other than 1, worker processes are forked
        first (see `.fork_processes`; ``None`` or a value <= 0 means one per
        CPU) and each accepts connections; no event loop may have been
        created before.  Deprecated: use `listen`, or `.bind_sockets`,
        `.fork_processes` and `add_sockets`.
        """
        if self._started:
            raise RuntimeError("TCPServer.start() may only be called once")
        self._started = True
        if num_processes != 1:
            process.fork_processes(num_processes, max_restarts)
        sockets, self._pending_sockets = self._pending_sockets, []
        self.add_sockets(sockets)

    def stop(self) -> None:
        """Stop accepting new connections and close the listening sockets.

        Connections already accepted are left open.  Calling it again does
        nothing.
        """
        if self._stopped:
            return
        self._stopped = True
        for fd, sock in self._sockets.items():
            self._remove_accept_handlers.pop(fd)()
            sock.close()

    def handle_stream(
        self, stream: IOStream, address: tuple[Any, ...]
    ) -> Awaitable[None] | None:
        """Serve one new connection; override this in a subclass.

        ``address`` is the peer's address as ``socket.accept`` returns it.
        May be a coroutine: an exception it raises is logged.  For TLS
        connections the handshake may still be in progress (see
        `.SSLIOStream.wait_for_handshake`).
        """
        raise NotImplementedError()

    def _handle_connection(self, connection: socket.socket, address: Any) -> None:
        if self.ssl_options is not None:
            tls_connection = self._wrap_tls(connection)
            if tls_connection is None:
                return
            connection = tls_connection
        try:
            stream_class = IOStream if self.ssl_options is None else SSLIOStream
            stream = stream_class(
                connection,
                max_buffer_size=self.max_buffer_size,
                read_chunk_size=self.read_chunk_size,
            )
            result = self.handle_stream(stream, address)
            if result is not None:
                IOLoop.current().add_future(
                    gen.convert_yielded(result), lambda future: future.result()
                )
        except Exception:
            app_log.error("Error in connection callback", exc_info=True)

    def _wrap_tls(self, connection: socket.socket) -> socket.socket | None:
        """The connection wrapped for TLS, or None if the client already left."""
        assert self.ssl_options is not None
        try:
            return ssl_wrap_socket(
                connection,
                self.ssl_options,
                server_side=True,
                do_handshake_on_connect=False,
            )
        except ssl.SSLError as err:
            if err.args[0] != ssl.SSL_ERROR_EOF:
                raise
        except OSError as err:
            # A connection closed right after it was accepted (a port scan,
            # say) can fail the wrapping in these ways.
            if errno_from_exception(err) not in (errno.ECONNABORTED, errno.EINVAL):
                raise
        connection.close()
        return None


# The tasks handing accepted connections to transports (asyncio keeps
# only weak references to tasks); each lasts until the transport is made
# (for TLS, until the handshake is over).
_connecting: set[asyncio.Task[None]] = set()


async def _connect_accepted(
    loop: asyncio.AbstractEventLoop,
    connection: socket.socket,
    protocol_factory: Callable[[], asyncio.BaseProtocol],
    tls: ssl.SSLContext | None,
) -> None:
    """Serve an accepted connection from a transport of the loop."""
    try:
        await loop.connect_accepted_socket(protocol_factory, connection, ssl=tls)
    except (OSError, ssl.SSLError, EOFError):
        connection.close()  # a client gone during the TLS handshake


def _check_ssl_options_files(ssl_options: dict[str, Any]) -> None:
    """Fail now, not on the first connection, if the key files are missing."""
    if "certfile" not in ssl_options:
        raise KeyError('missing key "certfile" in ssl_options')
    for key in ("certfile", "keyfile"):
        if key in ssl_options and not os.path.exists(ssl_options[key]):
            raise ValueError(f'{key} "{ssl_options[key]}" does not exist')
