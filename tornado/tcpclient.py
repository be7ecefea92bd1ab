"""A non-blocking TCP connection factory.

`TCPClient.connect` resolves a host name and connects to one of its
addresses, racing IPv4 and IPv6 in the manner of "Happy Eyeballs"
(:rfc:`6555`): addresses of the family the resolver listed first are tried
one after another, and if none has connected after a short delay (or the
first one fails), the other family is tried in parallel.  It returns an
`.IOStream`, upgraded to TLS when given ``ssl_options``.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import functools
import numbers
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream
from tornado.netutil import Resolver
from tornado.util import TimeoutError

__all__ = ["TCPClient"]

#: Seconds to wait on the first address family before also trying the other.
_INITIAL_CONNECT_TIMEOUT = 0.3

_T = TypeVar("_T")
_Address = tuple[Any, ...]
_Candidate = tuple[socket.AddressFamily, _Address]
_Winner = tuple[socket.AddressFamily, _Address, IOStream]
_OpenAttempt = Callable[
    [socket.AddressFamily, _Address], tuple[IOStream, "Future[IOStream]"]
]


def _format_address(address: _Address) -> str:
    """``1.2.3.4:443`` or ``[::1]:443``, as timeout messages show addresses."""
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


class _HappyEyeballs:
    """One race to connect to any of several addresses (:rfc:`6555`).

    The candidates are split into two lanes by address family: the family
    of the first candidate, then every other.  The first lane is worked
    through one address at a time; the second lane joins in as soon as an
    attempt fails, or once ``fallback_delay`` has passed.  The first
    connection made wins, and every other stream opened is closed.

    ``open_attempt(family, address)`` opens one stream and returns it with
    the future of its connection; it may also raise, which counts as that
    address failing at once.
    """

    def __init__(self, candidates: list[_Candidate], open_attempt: _OpenAttempt):
        if not candidates:
            raise ValueError("no addresses to connect to")
        first_family = candidates[0][0]
        self._lanes = (
            collections.deque(c for c in candidates if c[0] == first_family),
            collections.deque(c for c in candidates if c[0] != first_family),
        )
        self._second_lane_open = False
        self._open_attempt = open_attempt
        self._in_flight: dict[Future[IOStream], tuple[_Address, IOStream]] = {}
        self._last_error: BaseException | None = None
        self._fallback_timer: object | None = None
        self._io_loop = IOLoop.current()
        #: Resolves with the winner's ``(family, address, stream)``.
        self.outcome: Future[_Winner] = Future()
        self.outcome.add_done_callback(self._on_outcome)

    def start(
        self, fallback_delay: float = _INITIAL_CONNECT_TIMEOUT
    ) -> Future[_Winner]:
        """Start the race; return `outcome`."""
        self._fallback_timer = self._io_loop.call_later(
            fallback_delay, self._open_second_lane
        )
        self._try_next(0)
        return self.outcome

    def pending_addresses(self) -> list[str]:
        """The addresses being connected to right now, formatted and sorted."""
        return sorted(
            _format_address(address) for address, _ in self._in_flight.values()
        )

    def abandon(self) -> None:
        """Give up: close every stream this race opened, the winner's too."""
        if not self.outcome.done():
            self.outcome.cancel()  # _on_outcome closes the attempts
            return
        if not self.outcome.cancelled() and self.outcome.exception() is None:
            self.outcome.result()[2].close()

    def _open_second_lane(self) -> None:
        if self._fallback_timer is not None:
            self._io_loop.remove_timeout(self._fallback_timer)
            self._fallback_timer = None
        if not self._second_lane_open and not self.outcome.done():
            self._second_lane_open = True
            self._try_next(1)

    def _try_next(self, lane: int) -> None:
        """Start an attempt on the next address of ``lane``, if any is left."""
        if not self._lanes[lane]:
            self._fail_if_exhausted()
            return
        family, address = self._lanes[lane].popleft()
        try:
            stream, connected = self._open_attempt(family, address)
        except Exception as e:
            self._attempt_failed(lane, e)
            return
        self._in_flight[connected] = (address, stream)
        connected.add_done_callback(
            functools.partial(self._on_attempt_done, lane, family)
        )

    def _on_attempt_done(
        self, lane: int, family: socket.AddressFamily, connected: Future[IOStream]
    ) -> None:
        entry = self._in_flight.pop(connected, None)
        if entry is None:
            return  # closed already, when the race was decided
        address, stream = entry
        if self.outcome.done():
            stream.close()  # a late arrival: another attempt won, or all gave up
            return
        if connected.cancelled():
            stream.close()
            self._attempt_failed(lane, asyncio.CancelledError())
            return
        error = connected.exception()
        if error is not None:
            stream.close()
            self._attempt_failed(lane, error)
            return
        self.outcome.set_result((family, address, stream))

    def _attempt_failed(self, lane: int, error: BaseException) -> None:
        self._last_error = error
        if self.outcome.done():
            return
        self._try_next(lane)
        # Waiting for the fallback delay is pointless once something failed.
        self._open_second_lane()

    def _fail_if_exhausted(self) -> None:
        exhausted = not any(self._lanes) and self._second_lane_open
        if exhausted and not self._in_flight and not self.outcome.done():
            error = self._last_error or OSError("connection failed")
            if isinstance(error, asyncio.CancelledError):
                error = OSError("connection attempt cancelled")
            self.outcome.set_exception(error)

    def _on_outcome(self, outcome: Future[_Winner]) -> None:
        """Once decided (or cancelled), stop and close what did not win."""
        if self._fallback_timer is not None:
            self._io_loop.remove_timeout(self._fallback_timer)
            self._fallback_timer = None
        losers, self._in_flight = self._in_flight, {}
        for _, stream in losers.values():
            stream.close()


class TCPClient:
    """Opens TCP connections, returning `.IOStream` objects.

    ``resolver`` is the `.Resolver` used for host names; by default a new
    one is created (and closed by `close`).
    """

    def __init__(self, resolver: Resolver | None = None) -> None:
        self._own_resolver = resolver is None
        #: The resolver used for host names.
        self.resolver: Resolver = Resolver() if resolver is None else resolver

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
        timeout: float | numbers.Real | datetime.timedelta | None = None,
    ) -> IOStream:
        """Connect to ``host``:``port``; return an `.IOStream`.

        ``af`` restricts the address family.  With ``ssl_options`` (an
        `ssl.SSLContext` or a dictionary) the connection is upgraded to TLS,
        checking the certificate against ``host``, and an `.SSLIOStream` is
        returned.  ``source_ip`` and ``source_port`` bind the local end
        (when only the port is given, to the loopback address of the
        family).  ``timeout`` (seconds or a `datetime.timedelta`) bounds the
        whole operation, name resolution and TLS handshake included; it
        raises `TimeoutError` when exceeded, saying which step ran out of
        time (``Timeout while resolving <host>``, ``Timeout while connecting
        to <addresses>``, ``Timeout during TLS handshake with <address>``).

        Raises an `OSError` (typically `.StreamClosedError`, whose
        ``real_error`` gives the cause) when no address accepts the
        connection.  Cancelling the call closes every connection it opened.
        """
        deadline = _deadline(timeout)
        candidates = await _before(
            deadline,
            self.resolver.resolve(host, port, af),
            lambda: f"Timeout while resolving {host}",
        )
        race = _HappyEyeballs(
            cast(list[_Candidate], candidates),
            functools.partial(
                self._create_stream,
                max_buffer_size,
                source_ip=source_ip,
                source_port=source_port,
            ),
        )
        try:
            _, address, stream = await _before(
                deadline, race.start(), functools.partial(_connect_timeout, race)
            )
        except BaseException:
            race.abandon()
            raise
        if ssl_options is None:
            return stream
        return await self._upgrade(stream, host, address, ssl_options, deadline)

    async def _upgrade(
        self,
        stream: IOStream,
        host: str,
        address: _Address,
        ssl_options: dict[str, Any] | ssl.SSLContext,
        deadline: float | None,
    ) -> IOStream:
        """Run the TLS handshake on ``stream``; the returned stream replaces it."""
        try:
            handshake = stream.start_tls(
                False, ssl_options=ssl_options, server_hostname=host
            )
        except BaseException:
            stream.close()
            raise
        handshake_future: Future[SSLIOStream] = asyncio.ensure_future(handshake)
        try:
            return await _before(
                deadline,
                handshake_future,
                lambda: f"Timeout during TLS handshake with {_format_address(address)}",
            )
        except BaseException:
            # Cancelled after the handshake completed: nobody gets the stream.
            if handshake_future.done() and not handshake_future.cancelled():
                if handshake_future.exception() is None:
                    handshake_future.result().close()
            raise

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


def _connect_timeout(race: _HappyEyeballs) -> str:
    pending = race.pending_addresses()
    if not pending:
        return "Timeout while connecting"
    return f"Timeout while connecting to {', '.join(pending)}"


def _deadline(
    timeout: float | numbers.Real | datetime.timedelta | None,
) -> float | None:
    """The loop time at which ``timeout`` seconds from now have passed."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        return IOLoop.current().time() + timeout.total_seconds()
    if isinstance(timeout, bool):
        raise TypeError(f"Unsupported timeout {timeout!r}")
    if isinstance(timeout, numbers.Real):
        return IOLoop.current().time() + float(timeout)
    raise TypeError(f"Unsupported timeout {timeout!r}")


async def _before(
    deadline: float | None, awaitable: Awaitable[_T], describe: Callable[[], str]
) -> _T:
    """Await ``awaitable``; past ``deadline``, cancel it and raise `TimeoutError`.

    ``describe()`` gives the error's message, when the deadline passes.
    """
    if deadline is None:
        return await awaitable
    work: Future[_T] = asyncio.ensure_future(awaitable)
    expired: list[str] = []

    def expire() -> None:
        if not work.done():
            expired.append(describe())
            work.cancel()

    io_loop = IOLoop.current()
    timer = io_loop.add_timeout(deadline, expire)
    try:
        return await work
    except asyncio.CancelledError:
        if expired:
            raise TimeoutError(expired[0]) from None
        raise
    finally:
        io_loop.remove_timeout(timer)
