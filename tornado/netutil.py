"""Networking helpers: listening sockets, accept handlers, TLS contexts, DNS.

:func:`bind_sockets` and :func:`bind_unix_socket` create listening sockets,
:func:`add_accept_handler` accepts connections on them from the `.IOLoop`, and
:func:`ssl_options_to_context` turns the ``ssl_options`` dictionaries accepted
throughout Tornado into `ssl.SSLContext` objects.

Name resolution goes through the configurable :class:`Resolver` interface.
The default, :class:`DefaultLoopResolver`, asks the asyncio event loop (which
runs the system resolver in a thread); alternatives are
:class:`ThreadedResolver`, :class:`BlockingResolver`, the
:class:`OverrideResolver` wrapper and the resolvers in
``tornado.platform.caresresolver`` and ``tornado.platform.twisted``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import functools
import os
import socket
import ssl
import stat
import sys
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.concurrent import dummy_executor
from tornado.ioloop import IOLoop
from tornado.util import Configurable, errno_from_exception

__all__ = [
    "BlockingResolver",
    "DefaultExecutorResolver",
    "DefaultLoopResolver",
    "ExecutorResolver",
    "OverrideResolver",
    "Resolver",
    "ThreadedResolver",
    "add_accept_handler",
    "bind_sockets",
    "bind_unix_socket",
    "is_valid_ip",
    "ssl_options_to_context",
    "ssl_wrap_socket",
]

# Listen backlog used when the caller does not choose one; also the most
# connections accepted per readiness event by add_accept_handler.
_DEFAULT_BACKLOG = 128

# Shared default contexts for client and server connections that were given
# no ssl_options of their own.
_client_ssl_defaults = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
_server_ssl_defaults = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
if hasattr(ssl, "OP_NO_COMPRESSION"):
    # Compression over TLS leaks secrets (CRIME); newer OpenSSLs already
    # default to this but older ones do not.
    _client_ssl_defaults.options |= ssl.OP_NO_COMPRESSION
    _server_ssl_defaults.options |= ssl.OP_NO_COMPRESSION

# The keys an ssl_options dictionary may have.
_SSL_CONTEXT_KEYWORDS = frozenset(
    ["ssl_version", "certfile", "keyfile", "cert_reqs", "ca_certs", "ciphers"]
)

# Import the idna codec now: the first use of it from a thread other than
# the main one can otherwise deadlock on the import lock.
"localhost".encode("idna")


def bind_sockets(
    port: int,
    address: str | None = None,
    family: socket.AddressFamily = socket.AF_UNSPEC,
    backlog: int = _DEFAULT_BACKLOG,
    flags: int | None = None,
    reuse_port: bool = False,
) -> list[socket.socket]:
    """Create listening sockets bound to ``port`` on every matching address.

    Returns a list of non-blocking listening sockets, one per address that
    ``address`` resolves to: with ``address`` None or ``""`` that is every
    interface, for both IPv4 and IPv6 where available.  ``family`` restricts
    the address family (``socket.AF_INET`` or ``socket.AF_INET6``).  With
    ``port`` 0 a free port is picked once and shared by all the sockets.

    ``backlog`` is passed to `socket.socket.listen`, ``flags`` (default
    ``socket.AI_PASSIVE``) to `socket.getaddrinfo`.  ``reuse_port`` sets
    ``SO_REUSEPORT`` so several processes can listen on the same port; it
    raises `ValueError` on platforms without that option.

    IPv6 sockets are made IPv6-only so that an IPv4 socket on the same port
    can coexist with them.
    """
    _check_reuse_port(reuse_port)
    bind = functools.partial(
        _bind_all,
        address or None,
        port,
        _usable_family(family),
        socket.AI_PASSIVE if flags is None else flags,
        backlog,
        reuse_port,
    )
    # With port 0 the port the first socket gets may already be taken in
    # another family; then all the sockets start over on a new port.
    attempts_left = 5 if port == 0 else 1
    while True:
        attempts_left -= 1
        try:
            return bind()
        except OSError as e:
            if attempts_left == 0 or errno_from_exception(e) != errno.EADDRINUSE:
                raise


def _check_reuse_port(reuse_port: bool) -> None:
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("the platform doesn't support SO_REUSEPORT")


def _usable_family(family: socket.AddressFamily) -> socket.AddressFamily:
    """``family``, narrowed to IPv4 when this Python cannot use IPv6 at all."""
    if family == socket.AF_UNSPEC and not socket.has_ipv6:
        # Python built without IPv6 support can still get IPv6 results from
        # getaddrinfo, which it would then fail to bind.
        return socket.AF_INET
    return family


def _bind_all(
    address: str | None,
    port: int,
    family: socket.AddressFamily,
    flags: int,
    backlog: int,
    reuse_port: bool,
) -> list[socket.socket]:
    """One listening socket per address, all on one port (see `bind_sockets`)."""
    sockets: list[socket.socket] = []
    bound_port: int | None = None
    try:
        for af, sockaddr in _listen_addresses(address, port, family, flags):
            if bound_port is not None and sockaddr[1] == 0:
                sockaddr = (sockaddr[0], bound_port) + tuple(sockaddr[2:])
            sock = _bind_one(af, sockaddr, address, backlog, reuse_port)
            if sock is None:
                continue
            bound_port = sock.getsockname()[1]
            sockets.append(sock)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listen_addresses(
    address: str | None, port: int, family: socket.AddressFamily, flags: int
) -> list[tuple[socket.AddressFamily, tuple[Any, ...]]]:
    """The distinct ``(family, sockaddr)`` pairs to bind, IPv4 first."""
    infos = socket.getaddrinfo(address, port, family, socket.SOCK_STREAM, 0, flags)
    result: list[tuple[socket.AddressFamily, tuple[Any, ...]]] = []
    for af, _, _, _, sockaddr in sorted(infos, key=lambda info: info[0]):
        entry = (af, tuple(sockaddr))
        if entry in result:
            # Some platforms list the same address more than once.
            continue
        if (
            sys.platform == "darwin"
            and address == "localhost"
            and af == socket.AF_INET6
            and sockaddr[3] != 0
        ):
            # macOS also lists the link-local fe80::1%lo0 for "localhost",
            # which nobody expects a server on localhost to listen on.
            continue
        result.append(entry)
    return result


def _bind_one(
    af: socket.AddressFamily,
    sockaddr: tuple[Any, ...],
    address: str | None,
    backlog: int,
    reuse_port: bool,
) -> socket.socket | None:
    """One listening socket on ``sockaddr``, or None if it cannot exist here."""
    try:
        sock = socket.socket(af, socket.SOCK_STREAM)
    except OSError as e:
        if errno_from_exception(e) == errno.EAFNOSUPPORT:
            return None
        raise
    try:
        _set_reuse_addr(sock)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if af == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setblocking(False)
        if not _bind_unless_phantom(sock, sockaddr, address):
            sock.close()
            return None
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def _bind_unless_phantom(
    sock: socket.socket, sockaddr: tuple[Any, ...], address: str | None
) -> bool:
    """Bind ``sock``; False if the address only exists in the resolver's mind.

    "localhost" resolves to ``::1`` even on hosts (such as some containers)
    where IPv6 is not configured, and binding that address then fails.
    """
    phantom_ipv6_localhost = address == "localhost" and sockaddr[0] == "::1"
    try:
        sock.bind(sockaddr)
    except OSError as e:
        if phantom_ipv6_localhost and errno_from_exception(e) == errno.EADDRNOTAVAIL:
            return False
        raise
    return True


def _set_reuse_addr(sock: socket.socket) -> None:
    """Let a restarted server bind its port despite lingering connections."""
    if os.name == "nt":
        # On Windows SO_REUSEADDR means something else (port stealing).
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    except OSError as e:
        # Solaris refuses this option on unix sockets.
        if errno_from_exception(e) != errno.EINVAL:
            raise


if hasattr(socket, "AF_UNIX"):

    def bind_unix_socket(
        file: str, mode: int = 0o600, backlog: int = _DEFAULT_BACKLOG
    ) -> socket.socket:
        """Create a listening unix socket at the path ``file``.

        A socket file left at that path by an earlier server is removed
        first; any other kind of file there makes this raise `ValueError`
        rather than delete it.  The socket file gets permissions ``mode``.
        Returns a non-blocking socket listening with ``backlog``.

        On Linux, a name starting with a NUL character (``"\\0name"``) is
        in the abstract namespace: no file is involved, so nothing is
        removed and ``mode`` does not apply.
        """
        in_filesystem = not file.startswith("\0")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            _set_reuse_addr(sock)
            sock.setblocking(False)
            if in_filesystem:
                _remove_stale_socket_file(file)
            sock.bind(file)
            if in_filesystem:
                os.chmod(file, mode)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock

    def _remove_stale_socket_file(file: str) -> None:
        try:
            st = os.stat(file)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ValueError(f"File {file} exists and is not a socket")
        os.remove(file)


def add_accept_handler(
    sock: socket.socket, callback: Callable[[socket.socket, Any], None]
) -> Callable[[], None]:
    """Call ``callback(connection, address)`` for each connection on ``sock``.

    ``sock`` is a listening socket, as made by :func:`bind_sockets`.  The
    accepting happens on the current `.IOLoop`.  Returns a function that
    stops accepting; connections already pending at that point are left in
    the socket's queue rather than handed to ``callback``.
    """
    io_loop = IOLoop.current()
    removed = False

    def accept_ready(fd: Any, events: int) -> None:
        # Accept a bounded batch so one busy socket cannot starve the loop;
        # the loop calls back while more connections are pending.
        for _ in range(_DEFAULT_BACKLOG):
            if removed:
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                # The client gave up while queued; not an error for us.
                continue
            callback(connection, address)

    def remove_handler() -> None:
        nonlocal removed
        io_loop.remove_handler(sock)
        removed = True

    io_loop.add_handler(sock, accept_ready, IOLoop.READ)
    return remove_handler


def is_valid_ip(ip: str) -> bool:
    """Whether ``ip`` is an IPv4 or IPv6 address literal (not a host name)."""
    if not ip or "\x00" in ip:
        # getaddrinfo rejects embedded NULs with an exception of its own.
        return False
    try:
        infos = socket.getaddrinfo(
            ip, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        )
    except socket.gaierror as e:
        if e.args[0] == socket.EAI_NONAME:
            return False
        raise
    except UnicodeError:
        # Non-ASCII text cannot be an address literal.
        return False
    return bool(infos)


class Resolver(Configurable):
    """Interface for asynchronous name resolution.

    ``Resolver()`` makes an instance of the configured implementation (see
    ``Resolver.configure``), :class:`DefaultLoopResolver` unless configured
    otherwise.  Implementations in this package:

    * :class:`DefaultLoopResolver` and :class:`DefaultExecutorResolver`
    * :class:`ThreadedResolver` and :class:`BlockingResolver` (deprecated)
    * :class:`OverrideResolver`, which rewrites names before resolving them
    * ``tornado.platform.caresresolver.CaresResolver``
    * ``tornado.platform.twisted.TwistedResolver``
    """

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """:class:`Resolver` is the configurable base of all resolvers."""
        return Resolver

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """:class:`DefaultLoopResolver` is used unless another is configured."""
        return DefaultLoopResolver

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        """Resolve ``host`` and ``port``, for the address ``family`` given.

        The awaitable result is a list of ``(family, address)`` pairs, where
        ``address`` is a tuple that can be passed to `socket.socket.connect`
        (``(host, port)`` for IPv4, ``(host, port, flowinfo, scope_id)``
        for IPv6).  Failure raises `IOError` (`OSError`).
        """
        raise NotImplementedError()

    def close(self) -> None:
        """Release the resources held by this resolver."""


def _resolve_addr(
    host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
) -> list[tuple[int, Any]]:
    """Blocking resolution with `socket.getaddrinfo`, for executors."""
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise _naming_host(e, host) from None
    return [(af, address) for af, _, _, _, address in infos]


def _naming_host(error: socket.gaierror, host: str) -> socket.gaierror:
    """A copy of ``error`` whose message says which host failed."""
    return socket.gaierror(error.errno, f"{error.strerror} (resolving {host!r})")


class DefaultExecutorResolver(Resolver):
    """Resolver running the blocking `socket.getaddrinfo` in the
    `.IOLoop`'s default executor (see ``IOLoop.run_in_executor``).
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """Resolve ``host`` in a thread; see :meth:`Resolver.resolve`."""
        return await IOLoop.current().run_in_executor(
            None, _resolve_addr, host, port, family
        )


class DefaultLoopResolver(Resolver):
    """Resolver using the asyncio event loop's ``getaddrinfo``.

    This is the default resolver.
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """Resolve ``host`` through asyncio; see :meth:`Resolver.resolve`."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM
            )
        except socket.gaierror as e:
            raise _naming_host(e, host) from None
        return [(af, address) for af, _, _, _, address in infos]


class ExecutorResolver(Resolver):
    """Resolver running `socket.getaddrinfo` on a `concurrent.futures.Executor`.

    ``executor`` defaults to one that runs the call synchronously in the
    calling thread.  With ``close_executor`` true (the default), closing
    the resolver shuts the executor down.

    .. deprecated:: 5.0
       Use :class:`DefaultLoopResolver`, or ``IOLoop.run_in_executor``
       directly.
    """

    def initialize(
        self,
        executor: concurrent.futures.Executor | None = None,
        close_executor: bool = True,
    ) -> None:
        """Use ``executor`` (closed by :meth:`close` if ``close_executor``)."""
        #: The executor the lookups run on.
        self.executor: concurrent.futures.Executor
        #: Whether :meth:`close` shuts :attr:`executor` down.
        self.close_executor: bool
        if executor is None:
            self.executor = dummy_executor
            self.close_executor = False
        else:
            self.executor = executor
            self.close_executor = close_executor

    def close(self) -> None:
        """Shut down the executor if this resolver owns it."""
        if self.close_executor:
            self.executor.shutdown()
        self.executor = None  # type: ignore[assignment]

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """Resolve ``host`` on the executor; see :meth:`Resolver.resolve`."""
        return await IOLoop.current().run_in_executor(
            self.executor, _resolve_addr, host, port, family
        )


class BlockingResolver(ExecutorResolver):
    """Resolver that blocks the event loop while `socket.getaddrinfo` runs.

    .. deprecated:: 5.0
       Use :class:`DefaultLoopResolver`.
    """

    def initialize(self) -> None:  # type: ignore[override]
        """Resolve synchronously in the calling thread."""
        super().initialize()


class ThreadedResolver(ExecutorResolver):
    """Resolver running `socket.getaddrinfo` on a pool of threads.

    The pool is shared by every instance in a process, created on first use
    with ``num_threads`` workers (later values of ``num_threads`` are
    ignored); a forked child process makes a pool of its own.

    .. deprecated:: 5.0
       Use :class:`DefaultLoopResolver`.
    """

    def initialize(self, num_threads: int = 10) -> None:  # type: ignore[override]
        """Share the process-wide pool, creating it with ``num_threads``."""
        pool = _shared_pool.get(num_threads)
        super().initialize(executor=pool, close_executor=False)


class _ProcessPool:
    """The thread pool of the `ThreadedResolver` instances of this process.

    Threads do not survive ``fork()``, so a child process that inherited a
    pool makes a new one rather than queue work no thread will ever run.
    """

    def __init__(self) -> None:
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._owner_pid: int | None = None

    def get(self, num_threads: int) -> concurrent.futures.ThreadPoolExecutor:
        """The pool, made with ``num_threads`` workers on first use here."""
        if self._pool is None or self._owner_pid != os.getpid():
            self._pool = concurrent.futures.ThreadPoolExecutor(num_threads)
            self._owner_pid = os.getpid()
        return self._pool


_shared_pool = _ProcessPool()


class OverrideResolver(Resolver):
    """Resolver that rewrites some names before passing them to another.

    ``mapping`` keys are host names, ``(host, port)`` pairs or
    ``(host, port, family)`` triples; the values are what to resolve
    instead (a host name for host keys, ``(host, port)`` for the others).
    The most specific matching key wins.  For example, to send a test's
    traffic for two services to local stand-ins::

        OverrideResolver(DefaultLoopResolver(), {
            "api.internal": "127.0.0.1",
            ("db.internal", 5432): ("localhost", 15432),
            ("db.internal", 5432, socket.AF_INET6): ("::1", 25432),
        })
    """

    def initialize(self, resolver: Resolver, mapping: dict[Any, Any]) -> None:
        """Resolve through ``resolver`` after applying ``mapping``."""
        #: The resolver that does the actual lookups.
        self.resolver = resolver
        #: The rewrites applied to names before they are resolved.
        self.mapping = mapping

    def close(self) -> None:
        """Close the wrapped resolver."""
        self.resolver.close()

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        """Resolve ``host`` after rewriting; see :meth:`Resolver.resolve`."""
        target_host, target_port = self._rewrite(host, port, family)
        return self.resolver.resolve(target_host, target_port, family)

    def _rewrite(
        self, host: str, port: int, family: socket.AddressFamily
    ) -> tuple[str, int]:
        """Where ``host``:``port`` really is, by the most specific mapping key."""
        for key in ((host, port, family), (host, port)):
            if key in self.mapping:
                mapped_host, mapped_port = self.mapping[key]
                return mapped_host, mapped_port
        return self.mapping.get(host, host), port


def ssl_options_to_context(
    ssl_options: dict[str, Any] | ssl.SSLContext, server_side: bool | None = None
) -> ssl.SSLContext:
    """Turn an ``ssl_options`` dictionary into an `ssl.SSLContext`.

    A context is returned unchanged.  A dictionary may have the keys
    ``ssl_version``, ``certfile``, ``keyfile``, ``cert_reqs``, ``ca_certs``
    and ``ciphers``, with the meanings of the corresponding arguments of the
    old ``ssl.wrap_socket`` function; any other key raises `ValueError`.

    ``server_side`` picks the protocol when ``ssl_version`` is absent: true
    for a server context, false for a client context (which then verifies
    certificates and host names unless ``cert_reqs`` is ``ssl.CERT_NONE``).
    """
    if isinstance(ssl_options, ssl.SSLContext):
        return ssl_options
    if not isinstance(ssl_options, dict):
        raise TypeError(
            f"ssl_options must be a dict or an ssl.SSLContext, not {ssl_options!r}"
        )
    unknown = set(ssl_options) - _SSL_CONTEXT_KEYWORDS
    if unknown:
        raise ValueError(
            f"unknown ssl_options key(s) {sorted(unknown)}; "
            f"expected some of {sorted(_SSL_CONTEXT_KEYWORDS)}"
        )
    context = _new_context(ssl_options.get("ssl_version"), server_side)
    for key, apply in _SSL_OPTION_APPLIERS:
        if key in ssl_options:
            apply(context, ssl_options)
    # Compression over TLS leaks secrets (CRIME).
    context.options |= getattr(ssl, "OP_NO_COMPRESSION", 0)
    return context


def _apply_cert_reqs(context: ssl.SSLContext, options: dict[str, Any]) -> None:
    required = options["cert_reqs"]
    # Host names can only go unchecked once nothing is verified, and
    # verification cannot be turned off while they are checked: order matters.
    context.check_hostname = context.check_hostname and required != ssl.CERT_NONE
    context.verify_mode = required


# How each ssl_options key (other than ssl_version) changes a context, in
# the order they apply: the certificate before the verification settings.
_SSL_OPTION_APPLIERS: tuple[
    tuple[str, Callable[[ssl.SSLContext, dict[str, Any]], None]], ...
] = (
    ("certfile", lambda c, o: c.load_cert_chain(o["certfile"], o.get("keyfile"))),
    ("cert_reqs", _apply_cert_reqs),
    ("ca_certs", lambda c, o: c.load_verify_locations(o["ca_certs"])),
    ("ciphers", lambda c, o: c.set_ciphers(o["ciphers"])),
)


def _new_context(version: int | None, server_side: bool | None) -> ssl.SSLContext:
    if version is not None:
        return ssl.SSLContext(version)
    if server_side is not None:
        return ssl.SSLContext(
            ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT
        )
    # The caller did not say which side this is for, so only the generic
    # (deprecated in the ssl module) protocol can serve both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ssl.SSLContext(ssl.PROTOCOL_TLS)


def ssl_wrap_socket(
    socket: socket.socket,
    ssl_options: dict[str, Any] | ssl.SSLContext,
    server_hostname: str | None = None,
    server_side: bool | None = None,
    **kwargs: Any,
) -> ssl.SSLSocket:
    """Wrap ``socket`` in TLS configured by ``ssl_options``.

    ``ssl_options`` is a dictionary or an `ssl.SSLContext` (see
    :func:`ssl_options_to_context`).  ``server_hostname`` is used for SNI
    and certificate host name checks; remaining keyword arguments go to
    `ssl.SSLContext.wrap_socket`.
    """
    context = ssl_options_to_context(ssl_options, server_side=server_side)
    return context.wrap_socket(
        socket,
        server_hostname=server_hostname,
        server_side=bool(server_side),
        **kwargs,
    )
