"""A :class:`~tornado.netutil.Resolver` built on the c-ares library.

It needs the ``pycares`` package (version 4 or 5).  c-ares consults
``/etc/hosts`` and then DNS, without a thread per lookup; it does not use
other name services (such as NIS or mDNS) that the system resolver may be
configured with.  To make it the default::

    Resolver.configure("tornado.platform.caresresolver.CaresResolver")
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pycares

from tornado.ioloop import IOLoop
from tornado.netutil import Resolver

__all__ = ["CaresResolver"]


class CaresResolver(Resolver):
    """Name resolution with c-ares, driven by the current `.IOLoop`.

    c-ares tells the resolver which sockets it wants to read or write, and
    the resolver watches them with the loop; a timer drives c-ares' retries
    and query timeouts.  Failures raise `IOError` naming the host.
    """

    def initialize(self) -> None:
        """Create the c-ares channel on the current `.IOLoop`."""
        #: The loop whose handlers watch c-ares' sockets.
        self.io_loop = IOLoop.current()
        #: The ``pycares.Channel`` that performs the lookups (typed loosely:
        #: its API differs between pycares 4 and 5).
        self.channel: Any = pycares.Channel(sock_state_cb=self._sock_state_cb)
        #: c-ares' sockets mapped to the `.IOLoop` events watched on each.
        self.fds: dict[int, int] = {}
        self._loop_thread = threading.get_ident()
        self._pending = 0
        self._timer: object | None = None

    def _sock_state_cb(self, fd: int, readable: bool, writable: bool) -> None:
        if threading.get_ident() != self._loop_thread:
            # pycares 5 destroys channels on a thread of its own, and may
            # report their sockets closing from there.
            self.io_loop.add_callback(self._sock_state_cb, fd, readable, writable)
            return
        events = (IOLoop.READ if readable else 0) | (IOLoop.WRITE if writable else 0)
        if not events:
            if self.fds.pop(fd, None) is not None:
                self.io_loop.remove_handler(fd)
        elif fd in self.fds:
            self.io_loop.update_handler(fd, events)
            self.fds[fd] = events
        else:
            self.io_loop.add_handler(fd, self._handle_events, events)
            self.fds[fd] = events

    def _handle_events(self, fd: int, events: int) -> None:
        no_fd = pycares.ARES_SOCKET_BAD
        read_fd = fd if events & IOLoop.READ else no_fd
        write_fd = fd if events & IOLoop.WRITE else no_fd
        self.channel.process_fd(read_fd, write_fd)
        self._reschedule_timer()

    def _on_timer(self) -> None:
        self._timer = None
        # Processing no socket lets c-ares expire and retry its queries.
        no_fd = pycares.ARES_SOCKET_BAD
        self.channel.process_fd(no_fd, no_fd)
        self._reschedule_timer()

    def _reschedule_timer(self) -> None:
        if self._timer is not None:
            self.io_loop.remove_timeout(self._timer)
            self._timer = None
        if self._pending:
            delay = self.channel.timeout(1.0)
            self._timer = self.io_loop.call_later(delay, self._on_timer)

    async def resolve(
        self, host: str, port: int, family: int = 0
    ) -> list[tuple[int, Any]]:
        """Resolve ``host`` with c-ares; see `.Resolver.resolve`."""
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_answer(answer: Any, error: int | None) -> None:
            self._pending -= 1
            if result.done():
                return
            if error:
                result.set_exception(_resolution_error(error, host))
            else:
                result.set_result(answer)

        self._pending += 1
        try:
            # c-ares answers names from /etc/hosts (and IP literals) within
            # this call, before it returns.
            self.channel.getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM, callback=on_answer
            )
        except BaseException:
            self._pending -= 1
            raise
        self._reschedule_timer()
        answer = await result
        addresses = [(node.family, _address(node.addr)) for node in answer.nodes]
        if not addresses:
            raise OSError(f"C-Ares returned no addresses while resolving {host}")
        return addresses


def _resolution_error(error: int, host: str) -> OSError:
    message = pycares.errno.strerror(error)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return OSError(f"C-Ares returned error {error}: {message} while resolving {host}")


def _address(addr: tuple[Any, ...]) -> tuple[Any, ...]:
    """A socket address with the host as text (pycares gives bytes)."""
    host = addr[0]
    if isinstance(host, bytes):
        host = host.decode("ascii")
    return (host,) + tuple(addr[1:])
