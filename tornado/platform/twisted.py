"""Interoperation with Twisted.

Since Tornado runs on asyncio, Twisted code can share its event loop once
Twisted's asyncio reactor is installed (:func:`install`), and
`TwistedResolver` resolves names with Twisted's lookup.  Twisted is only
imported when these functions and classes are used.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from tornado.escape import utf8
from tornado.ioloop import IOLoop
from tornado.netutil import Resolver

__all__ = ["TwistedResolver", "install"]


def install() -> None:
    """Install Twisted's asyncio reactor as the global Twisted reactor.

    The reactor runs on the asyncio event loop that is running (or, when
    none is, on one Twisted creates and makes current), so Twisted and
    Tornado code share a single loop.  Call this before anything imports
    ``twisted.internet.reactor``.

    .. deprecated:: 5.1
       Call ``twisted.internet.asyncioreactor.install()`` directly.
    """
    from twisted.internet.asyncioreactor import install as install_reactor

    install_reactor()  # type: ignore[no-untyped-call]


class TwistedResolver(Resolver):
    """Resolver using Twisted's name lookup (``twisted.names``).

    Names are looked up in ``/etc/hosts`` and then over DNS with the servers
    in ``/etc/resolv.conf``, using a Twisted asyncio reactor on the current
    event loop.  Only one address is returned per lookup, of either
    family.

    .. deprecated:: 6.2
       Use :class:`~tornado.netutil.DefaultLoopResolver`.
    """

    def initialize(self) -> None:
        """Create the Twisted reactor and the chain of name resolvers."""
        from twisted.internet.asyncioreactor import AsyncioSelectorReactor
        from twisted.names import cache, client, hosts, resolve

        #: The Twisted reactor, on the asyncio loop of the current `.IOLoop`.
        io_loop: Any = IOLoop.current()
        self.reactor: Any = AsyncioSelectorReactor(io_loop.asyncio_loop)
        #: The ``twisted.names`` resolver chain consulted for each lookup.
        self._dns_client = client.Resolver(  # type: ignore[no-untyped-call]
            "/etc/resolv.conf", reactor=self.reactor
        )
        sources = [
            hosts.Resolver("/etc/hosts"),  # type: ignore[no-untyped-call]
            cache.CacheResolver(reactor=self.reactor),  # type: ignore[no-untyped-call]
            self._dns_client,
        ]
        self.resolver = resolve.ResolverChain(sources)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Stop re-reading ``resolv.conf`` and close the reactor's wake-up pipe.

        Twisted has no public way to dispose of a reactor that was never run,
        so this undoes the two things creating one (and the DNS client) left
        registered on the event loop.
        """
        poll = getattr(self._dns_client, "_parseCall", None)
        if poll is not None and poll.active():
            poll.cancel()
        waker = self.reactor.waker
        if waker is not None:
            self.reactor.removeReader(waker)
            waker.connectionLost(None)
            self.reactor.waker = None

    async def resolve(
        self, host: str, port: int, family: int = 0
    ) -> list[tuple[int, Any]]:
        """Resolve ``host`` through Twisted; see `.Resolver.resolve`."""
        resolved_family = _literal_family(host)
        resolved = host
        if resolved_family is None:
            resolved = await self._lookup(host)
            resolved_family = _literal_family(resolved) or socket.AF_UNSPEC
        if family != socket.AF_UNSPEC and family != resolved_family:
            raise OSError(
                f"Requested socket family {family} but got {resolved_family} "
                f"while resolving {host}"
            )
        return [(resolved_family, (resolved, port))]

    async def _lookup(self, host: str) -> str:
        from twisted.names.error import DomainError

        # getHostByName does not accept IP literals; callers handle those.
        deferred = self.resolver.getHostByName(utf8(host))  # type: ignore[no-untyped-call]
        try:
            resolved = await deferred.asFuture(asyncio.get_running_loop())
        except DomainError as e:
            raise OSError(
                f"Twisted could not resolve {host} ({type(e).__name__})"
            ) from e
        return str(resolved)


def _literal_family(host: str) -> socket.AddressFamily | None:
    """The family of ``host`` if it is an IP address literal, else None."""
    from twisted.internet.abstract import isIPAddress, isIPv6Address

    if isIPAddress(host):
        return socket.AF_INET
    if isIPv6Address(host):
        return socket.AF_INET6
    return None
