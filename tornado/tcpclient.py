"""A non-blocking TCP connection factory.

`TCPClient.connect` resolves a host name and connects to one of its
addresses, racing IPv4 and IPv6 in the manner of "Happy Eyeballs"
(:rfc:`6555`): addresses of the family the resolver listed first are tried
one after another, and if none has connected after a short delay (or the
first one fails), the other family is tried in parallel.
"""

from __future__ import annotations

import datetime
import functools
import numbers
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

from tornado import gen
from tornado.concurrent import Future, future_add_done_callback
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.netutil import Resolver
from tornado.util import TimeoutError

__all__ = ["TCPClient"]

#: Seconds to wait on the first address family before also trying the other.
_INITIAL_CONNECT_TIMEOUT = 0.3

_Address = tuple[Any, ...]
_AddrInfo = list[tuple[socket.AddressFamily, _Address]]
_ConnectFunction = Callable[
    [socket.AddressFamily, _Address], tuple[IOStream, "Future[IOStream]"]
]


class _Connector:
    """One "Happy Eyeballs" connection attempt over a list of addresses.

    ``addrinfo`` is a list of ``(family, address)`` pairs as a `.Resolver`
    returns them.  They are split into a primary list (every address of the
    first entry's family) and a secondary list (the rest).  Primary
    addresses are tried one at a time; the secondary list starts when the
    first attempt fails or after a timeout, whichever comes first.  The first
    connection made wins and the others are closed.

    ``connect(family, address)`` starts one attempt and returns the stream
    and a future that resolves when it is connected.
    """

    def __init__(self, addrinfo: _AddrInfo, connect: _ConnectFunction) -> None:
        if not addrinfo:
            raise ValueError("no addresses to connect to")
        self.io_loop = IOLoop.current()
        self.connect = connect
        #: Resolves with ``(family, address, stream)`` of the winning attempt.
        self.future: Future[tuple[socket.AddressFamily, _Address, IOStream]] = Future()
        self.timeout: object | None = None
        self.connect_timeout: object | None = None
        self.last_error: BaseException | None = None
        self.remaining = len(addrinfo)
        self.primary_addrs, self.secondary_addrs = self.split(addrinfo)
        self.streams: set[IOStream] = set()

    @staticmethod
    def split(addrinfo: _AddrInfo) -> tuple[_AddrInfo, _AddrInfo]:
        """Partition ``addrinfo`` into the first entry's family and the rest."""
        primary_family = addrinfo[0][0]
        primary = [entry for entry in addrinfo if entry[0] == primary_family]
        secondary = [entry for entry in addrinfo if entry[0] != primary_family]
        return primary, secondary

    def start(
        self,
        timeout: float = _INITIAL_CONNECT_TIMEOUT,
        connect_timeout: float | datetime.timedelta | None = None,
    ) -> Future[tuple[socket.AddressFamily, _Address, IOStream]]:
        """Begin connecting; ``timeout`` is the delay before the second family.

        ``connect_timeout`` is a deadline (in `.IOLoop.time` terms) after
        which the whole attempt fails with `TimeoutError`.
        """
        self.try_connect(iter(self.primary_addrs))
        self.set_timeout(timeout)
        if connect_timeout is not None:
            self.set_connect_timeout(connect_timeout)
        return self.future

    def try_connect(
        self, addrs: Iterator[tuple[socket.AddressFamily, _Address]]
    ) -> None:
        """Start an attempt on the next address of ``addrs``, if there is one."""
        try:
            family, address = next(addrs)
        except StopIteration:
            # This list is exhausted; fail only once the other one is too.
            if self.remaining == 0 and not self.future.done():
                self.future.set_exception(
                    self.last_error or OSError("connection failed")
                )
            return
        try:
            stream, future = self.connect(family, address)
        except Exception as e:
            # E.g. the source address cannot be bound: a failed attempt.
            future = Future()
            future.set_exception(e)
        else:
            self.streams.add(stream)
        future_add_done_callback(
            future, functools.partial(self.on_connect_done, addrs, family, address)
        )

    def on_connect_done(
        self,
        addrs: Iterator[tuple[socket.AddressFamily, _Address]],
        family: socket.AddressFamily,
        address: _Address,
        future: Future[IOStream],
    ) -> None:
        """Handle one finished attempt: win, or move on to the next address."""
        self.remaining -= 1
        try:
            stream = future.result()
        except Exception as e:
            if self.future.done():
                return
            self.last_error = e
            self.try_connect(addrs)
            if self.timeout is not None:
                # The first attempt failed: start the other family right away.
                self.io_loop.remove_timeout(self.timeout)
                self.on_timeout()
            return
        self.clear_timeouts()
        if self.future.done():
            stream.close()  # a late arrival after another attempt won
        else:
            self.streams.discard(stream)
            self.future.set_result((family, address, stream))
            self.close_streams()

    def set_timeout(self, timeout: float) -> None:
        """Start the secondary family after ``timeout`` seconds."""
        self.timeout = self.io_loop.add_timeout(
            self.io_loop.time() + timeout, self.on_timeout
        )

    def on_timeout(self) -> None:
        """Start trying the secondary addresses."""
        self.timeout = None
        if not self.future.done():
            self.try_connect(iter(self.secondary_addrs))

    def clear_timeout(self) -> None:
        """Cancel the pending start of the secondary family."""
        if self.timeout is not None:
            self.io_loop.remove_timeout(self.timeout)

    def set_connect_timeout(self, connect_timeout: float | datetime.timedelta) -> None:
        """Fail the whole attempt at the deadline ``connect_timeout``."""
        self.connect_timeout = self.io_loop.add_timeout(
            connect_timeout, self.on_connect_timeout
        )

    def on_connect_timeout(self) -> None:
        """Fail with `TimeoutError` and abandon every attempt in progress."""
        if not self.future.done():
            self.future.set_exception(TimeoutError())
        self.close_streams()

    def clear_timeouts(self) -> None:
        """Cancel both timeouts."""
        if self.timeout is not None:
            self.io_loop.remove_timeout(self.timeout)
        if self.connect_timeout is not None:
            self.io_loop.remove_timeout(self.connect_timeout)

    def close_streams(self) -> None:
        """Close the streams of attempts that did not win."""
        for stream in self.streams:
            stream.close()


class TCPClient:
    """Opens TCP connections, returning `.IOStream` objects.

    ``resolver`` is the `.Resolver` used for host names; by default a new
    one is created (and closed by `close`).
    """

    def __init__(self, resolver: Resolver | None = None) -> None:
        #: The resolver used for host names.
        self.resolver: Resolver
        if resolver is not None:
            self.resolver = resolver
            self._own_resolver = False
        else:
            self.resolver = Resolver()
            self._own_resolver = True

    def close(self) -> None:
        """Release the resolver if this client created it."""
        if self._own_resolver:
            self.resolver.close()

    async def connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        max_buffer_size: int | None = None,
        source_ip: str | None = None,
        source_port: int | None = None,
        timeout: float | datetime.timedelta | None = None,
    ) -> IOStream:
        """Connect to ``host``:``port``; return an `.IOStream`.

        ``af`` restricts the address family.  With ``ssl_options`` (an
        `ssl.SSLContext` or a dictionary) the connection is upgraded to TLS,
        checking the certificate against ``host``, and an `.SSLIOStream` is
        returned.  ``source_ip`` and ``source_port`` bind the local end
        (when only the port is given, to the loopback address of the
        family).  ``timeout`` (seconds or a `datetime.timedelta`) bounds the
        whole operation, name resolution and TLS handshake included; it
        raises `TimeoutError` when exceeded.

        Raises an `OSError` (typically `.StreamClosedError`, whose
        ``real_error`` gives the cause) when no address accepts the
        connection.
        """
        deadline = _deadline(timeout)
        addrinfo = await _within(deadline, self.resolver.resolve(host, port, af))
        connector = _Connector(
            addrinfo,
            functools.partial(
                self._create_stream,
                max_buffer_size,
                source_ip=source_ip,
                source_port=source_port,
            ),
        )
        _, _, stream = await connector.start(connect_timeout=deadline)
        if ssl_options is not None:
            stream = await _within(
                deadline,
                stream.start_tls(False, ssl_options=ssl_options, server_hostname=host),
            )
        return stream

    def _create_stream(
        self,
        max_buffer_size: int | None,
        af: socket.AddressFamily,
        addr: _Address,
        source_ip: str | None = None,
        source_port: int | None = None,
    ) -> tuple[IOStream, Future[IOStream]]:
        # Connections start in plain text; TLS is added to the winner only.
        bind_port = source_port if isinstance(source_port, int) else 0
        bind_ip = source_ip
        if bind_port and not bind_ip:
            bind_ip = "::1" if af == socket.AF_INET6 else "127.0.0.1"
        sock = socket.socket(af)
        if bind_port or bind_ip:
            try:
                sock.bind((bind_ip, bind_port))
            except OSError:
                sock.close()
                raise
        stream = IOStream(sock, max_buffer_size=max_buffer_size)
        return stream, stream.connect(addr)


def _deadline(timeout: float | datetime.timedelta | None) -> float | None:
    """The loop time at which ``timeout`` seconds from now have passed."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        return IOLoop.current().time() + timeout.total_seconds()
    if isinstance(timeout, numbers.Real) and not isinstance(timeout, bool):
        return IOLoop.current().time() + float(timeout)
    raise TypeError(f"Unsupported timeout {timeout!r}")


async def _within(deadline: float | None, awaitable: Any) -> Any:
    if deadline is None:
        return await awaitable
    return await gen.with_timeout(deadline, awaitable)
