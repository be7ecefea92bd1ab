from __future__ import annotations

import concurrent.futures
import errno
import os
import socket
import ssl
import stat
import sys
import tempfile
import threading
import typing
import unittest
from typing import Any
from unittest import mock

from tornado import netutil
from tornado.netutil import (
    BlockingResolver,
    DefaultExecutorResolver,
    DefaultLoopResolver,
    ExecutorResolver,
    OverrideResolver,
    Resolver,
    ThreadedResolver,
    add_accept_handler,
    bind_sockets,
    is_valid_ip,
    ssl_options_to_context,
    ssl_wrap_socket,
)
from tornado.test.util import TEST_CERT, TEST_KEY, skip_without_ipv6
from tornado.testing import AsyncTestCase, bind_unused_port, gen_test

if hasattr(socket, "AF_UNIX"):
    from tornado.netutil import bind_unix_socket

# A name that cannot exist (RFC 6761), so resolving it fails even offline.
INVALID_HOST = "an-invalid-domain.invalid"

skip_without_unix = unittest.skipUnless(
    hasattr(socket, "AF_UNIX"), "unix sockets are not available on this platform"
)
skip_without_reuse_port = unittest.skipUnless(
    hasattr(socket, "SO_REUSEPORT"), "SO_REUSEPORT is not available"
)


class BindSocketsTest(unittest.TestCase):
    def bind(self, *args: Any, **kwargs: Any) -> list[socket.socket]:
        sockets = bind_sockets(*args, **kwargs)
        for sock in sockets:
            self.addCleanup(sock.close)
        return sockets

    def assert_accepts_connections(self, sock: socket.socket) -> None:
        with socket.socket(sock.family) as client:
            client.connect(sock.getsockname())
            sock.setblocking(True)
            try:
                connection, address = sock.accept()
            finally:
                sock.setblocking(False)
            connection.close()
            self.assertEqual(address[:2], client.getsockname()[:2])

    def test_ipv4_loopback(self) -> None:
        [sock] = self.bind(0, "127.0.0.1")
        self.assertEqual(sock.family, socket.AF_INET)
        self.assertEqual(sock.getsockname()[0], "127.0.0.1")
        self.assertNotEqual(sock.getsockname()[1], 0)
        self.assertFalse(sock.getblocking())
        self.assertTrue(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
        self.assert_accepts_connections(sock)

    @skip_without_ipv6
    def test_ipv6_loopback(self) -> None:
        [sock] = self.bind(0, "::1")
        self.assertEqual(sock.family, socket.AF_INET6)
        self.assertEqual(sock.getsockname()[0], "::1")
        self.assertTrue(sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY))
        self.assert_accepts_connections(sock)

    @skip_without_ipv6
    def test_port_zero_is_shared_by_all_families(self) -> None:
        sockets = self.bind(0, None)
        families = {sock.family for sock in sockets}
        self.assertEqual(families, {socket.AF_INET, socket.AF_INET6})
        ports = {sock.getsockname()[1] for sock in sockets}
        self.assertEqual(len(ports), 1)

    def test_port_zero_starts_over_when_the_port_is_taken(self) -> None:
        # The port picked for the first family can be in use in another;
        # bind_sockets then tries again on a new port.
        real_bind_all = netutil._bind_all
        attempts: list[int] = []

        def taken_twice(*args: Any) -> list[socket.socket]:
            attempts.append(1)
            if len(attempts) <= 2:
                raise OSError(errno.EADDRINUSE, "Address already in use")
            return real_bind_all(*args)

        with mock.patch.object(netutil, "_bind_all", taken_twice):
            sockets = self.bind(0, "127.0.0.1")
        self.assertEqual(len(attempts), 3)
        self.assertEqual(len(sockets), 1)

    def test_fixed_port_in_use_is_not_retried(self) -> None:
        [first] = self.bind(0, "127.0.0.1")
        with self.assertRaises(OSError) as cm:
            self.bind(first.getsockname()[1], "127.0.0.1")
        self.assertEqual(cm.exception.errno, errno.EADDRINUSE)

    def test_empty_address_means_every_interface(self) -> None:
        [sock] = self.bind(0, "", family=socket.AF_INET)
        self.assertEqual(sock.getsockname()[0], "0.0.0.0")

    def test_family_restricts_addresses(self) -> None:
        sockets = self.bind(0, None, family=socket.AF_INET)
        self.assertEqual([sock.family for sock in sockets], [socket.AF_INET])

    def test_explicit_port(self) -> None:
        probe, port = bind_unused_port()
        probe.close()
        [sock] = self.bind(port, "127.0.0.1")
        self.assertEqual(sock.getsockname()[1], port)

    def test_port_in_use(self) -> None:
        [first] = self.bind(0, "127.0.0.1")
        port = first.getsockname()[1]
        with self.assertRaises(OSError) as cm:
            bind_sockets(port, "127.0.0.1")
        self.assertEqual(cm.exception.errno, errno.EADDRINUSE)

    def test_unresolvable_address(self) -> None:
        with self.assertRaises(socket.gaierror):
            bind_sockets(0, INVALID_HOST)

    @skip_without_reuse_port
    def test_reuse_port(self) -> None:
        [first] = self.bind(0, "127.0.0.1", reuse_port=True)
        port = first.getsockname()[1]
        [second] = self.bind(port, "127.0.0.1", reuse_port=True)
        self.assertEqual(second.getsockname()[1], port)
        self.assertTrue(second.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))

    def test_reuse_port_unsupported(self) -> None:
        with mock.patch.dict(socket.__dict__):
            socket.__dict__.pop("SO_REUSEPORT", None)
            with self.assertRaisesRegex(ValueError, "SO_REUSEPORT"):
                bind_sockets(0, "127.0.0.1", reuse_port=True)

    def test_backlog_and_flags_are_accepted(self) -> None:
        [sock] = self.bind(
            0, "127.0.0.1", backlog=5, flags=socket.AI_PASSIVE | socket.AI_NUMERICHOST
        )
        self.assert_accepts_connections(sock)


@skip_without_unix
class BindUnixSocketTest(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.path = os.path.join(directory.name, "test.sock")

    def bind(self, **kwargs: Any) -> socket.socket:
        sock = bind_unix_socket(self.path, **kwargs)
        self.addCleanup(sock.close)
        return sock

    def test_listens_with_default_mode(self) -> None:
        sock = self.bind()
        self.assertFalse(sock.getblocking())
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(self.path)

    def test_mode(self) -> None:
        self.bind(mode=0o660)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o660)

    def test_stale_socket_file_is_replaced(self) -> None:
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(self.path)
        stale.close()
        self.assertTrue(stat.S_ISSOCK(os.stat(self.path).st_mode))
        self.bind(backlog=4)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(self.path)

    @unittest.skipUnless(sys.platform.startswith("linux"), "Linux-only namespace")
    def test_abstract_namespace(self) -> None:
        name = f"\0tornado-test-{os.getpid()}-{id(self)}"
        with (
            mock.patch("os.stat", side_effect=AssertionError("stat")),
            mock.patch("os.remove", side_effect=AssertionError("remove")),
            mock.patch("os.chmod", side_effect=AssertionError("chmod")),
        ):
            sock = bind_unix_socket(name)
        self.addCleanup(sock.close)
        self.assertFalse(sock.getblocking())
        self.assertEqual(sock.getsockname(), name.encode())
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(name)
            connection, _ = sock.accept()
            connection.close()
        # The name is taken while the socket exists, as for any address.
        with self.assertRaises(OSError):
            bind_unix_socket(name)

    def test_refuses_to_replace_other_files(self) -> None:
        with open(self.path, "w") as f:
            f.write("precious")
        with self.assertRaisesRegex(ValueError, "exists and is not a socket"):
            bind_unix_socket(self.path)
        with open(self.path) as f:
            self.assertEqual(f.read(), "precious")


class AcceptHandlerTest(AsyncTestCase):
    def listen(self) -> socket.socket:
        sock, _ = bind_unused_port()
        self.addCleanup(sock.close)
        return sock

    def connect(self, sock: socket.socket) -> socket.socket:
        client = socket.socket()
        self.addCleanup(client.close)
        client.connect(sock.getsockname())
        return client

    def test_callback_gets_connection_and_address(self) -> None:
        sock = self.listen()
        accepted: list[tuple[socket.socket, Any]] = []

        def on_connection(connection: socket.socket, address: Any) -> None:
            self.addCleanup(connection.close)
            accepted.append((connection, address))
            self.stop()

        remove = add_accept_handler(sock, on_connection)
        self.addCleanup(remove)
        client = self.connect(sock)
        self.wait()
        [(connection, address)] = accepted
        self.assertEqual(address, client.getsockname())
        connection.sendall(b"hi")
        self.assertEqual(client.recv(2), b"hi")

    def test_accepts_several_pending_connections(self) -> None:
        sock = self.listen()
        accepted: list[Any] = []

        def on_connection(connection: socket.socket, address: Any) -> None:
            connection.close()
            accepted.append(address)
            if len(accepted) == 3:
                self.stop()

        self.addCleanup(add_accept_handler(sock, on_connection))
        clients = [self.connect(sock) for _ in range(3)]
        self.wait()
        self.assertEqual(
            sorted(accepted), sorted(client.getsockname() for client in clients)
        )

    def test_remover_stops_accepting_immediately(self) -> None:
        # Two connections are pending when the loop first sees the socket;
        # removing the handler during the first callback leaves the second.
        sock = self.listen()
        accepted: list[Any] = []

        def on_connection(connection: socket.socket, address: Any) -> None:
            connection.close()
            accepted.append(address)
            remove()
            self.stop()

        remove = add_accept_handler(sock, on_connection)
        self.connect(sock)
        self.connect(sock)
        self.wait()
        self.assertEqual(len(accepted), 1)
        left_over, _ = sock.accept()
        left_over.close()

    def test_removed_handler_is_not_called(self) -> None:
        removed_sock, active_sock = self.listen(), self.listen()
        calls: list[str] = []

        def on_removed(connection: socket.socket, address: Any) -> None:
            connection.close()
            calls.append("removed")

        def on_active(connection: socket.socket, address: Any) -> None:
            connection.close()
            calls.append("active")
            self.stop()

        add_accept_handler(removed_sock, on_removed)()
        self.addCleanup(add_accept_handler(active_sock, on_active))
        self.connect(removed_sock)
        # This connection is made after the first, so by the time the loop
        # reports it the first one had been pending on the loop as well.
        self.connect(active_sock)
        self.wait()
        self.assertEqual(calls, ["active"])
        pending, _ = removed_sock.accept()
        pending.close()


class IsValidIPTest(unittest.TestCase):
    def test_address_literals(self) -> None:
        for ip in ["10.0.0.1", "192.168.1.254", "::", "fe80::1", "2001:db8::7334"]:
            self.assertTrue(is_valid_ip(ip), ip)

    def test_names_and_malformed_text(self) -> None:
        for ip in [
            "",
            "\t",
            "localhost",
            "example.org",
            "10.0.0.1\x00",
            "\x00",
            "10.0.0.1\n",
            "fe80::1 ",
            "1.2.3.4.5",
            "10.0.0.256",
            "caf\u00e9",
            "b" * 300,
        ]:
            self.assertFalse(is_valid_ip(ip), repr(ip))


class SSLOptionsToContextTest(unittest.TestCase):
    def test_context_is_returned_unchanged(self) -> None:
        context = ssl.create_default_context()
        self.assertIs(ssl_options_to_context(context), context)

    def test_unknown_key(self) -> None:
        with self.assertRaisesRegex(ValueError, "'certfiel'"):
            ssl_options_to_context({"certfiel": TEST_CERT})

    def test_wrong_type(self) -> None:
        with self.assertRaisesRegex(TypeError, "ssl_options"):
            ssl_options_to_context(typing.cast(Any, ["certfile"]))

    def test_server_context(self) -> None:
        context = ssl_options_to_context(
            {"certfile": TEST_CERT, "keyfile": TEST_KEY}, server_side=True
        )
        self.assertEqual(context.protocol, ssl.PROTOCOL_TLS_SERVER)
        self.assertEqual(context.verify_mode, ssl.CERT_NONE)
        if hasattr(ssl, "OP_NO_COMPRESSION"):
            self.assertTrue(context.options & ssl.OP_NO_COMPRESSION)

    def test_client_context_verifies_by_default(self) -> None:
        context = ssl_options_to_context({}, server_side=False)
        self.assertEqual(context.protocol, ssl.PROTOCOL_TLS_CLIENT)
        self.assertTrue(context.check_hostname)
        self.assertEqual(context.verify_mode, ssl.CERT_REQUIRED)

    def test_cert_none_disables_host_name_checks(self) -> None:
        context = ssl_options_to_context({"cert_reqs": ssl.CERT_NONE}, False)
        self.assertFalse(context.check_hostname)
        self.assertEqual(context.verify_mode, ssl.CERT_NONE)

    def test_unspecified_side_does_not_warn(self) -> None:
        # Runs with warnings as errors: the generic protocol must not leak
        # the ssl module's deprecation warning.
        context = ssl_options_to_context({})
        self.assertIsInstance(context, ssl.SSLContext)

    def test_explicit_version_and_ciphers(self) -> None:
        context = ssl_options_to_context(
            {"ssl_version": ssl.PROTOCOL_TLS_CLIENT, "ciphers": "ECDHE+AESGCM"}
        )
        self.assertEqual(context.protocol, ssl.PROTOCOL_TLS_CLIENT)

    def test_bad_ciphers(self) -> None:
        with self.assertRaises(ssl.SSLError):
            ssl_options_to_context({"ciphers": "no-such-cipher"}, server_side=True)

    def test_missing_certfile(self) -> None:
        with self.assertRaises(OSError):
            ssl_options_to_context({"certfile": TEST_CERT + ".missing"}, True)


class SSLWrapSocketTest(unittest.TestCase):
    def test_handshake_with_verified_certificate(self) -> None:
        listener, port = bind_unused_port()
        self.addCleanup(listener.close)
        listener.setblocking(True)
        server_result: list[bytes] = []

        def serve() -> None:
            connection, _ = listener.accept()
            options = {"certfile": TEST_CERT, "keyfile": TEST_KEY}
            with ssl_wrap_socket(connection, options, server_side=True) as tls:
                server_result.append(tls.recv(5))
                tls.sendall(b"world")

        server = threading.Thread(target=serve)
        server.start()
        self.addCleanup(server.join)
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        options = {"ca_certs": TEST_CERT, "cert_reqs": ssl.CERT_REQUIRED}
        with ssl_wrap_socket(
            client, options, server_hostname="localhost", server_side=False
        ) as tls:
            peer_cert = tls.getpeercert()
            assert peer_cert is not None
            self.assertIn(("DNS", "localhost"), peer_cert["subjectAltName"])
            tls.sendall(b"hello")
            self.assertEqual(tls.recv(5), b"world")
        server.join()
        self.assertEqual(server_result, [b"hello"])

    def test_kwargs_reach_wrap_socket(self) -> None:
        sock = socket.socket()
        self.addCleanup(sock.close)
        tls = ssl_wrap_socket(
            sock,
            {"cert_reqs": ssl.CERT_NONE},
            server_side=False,
            do_handshake_on_connect=False,
        )
        self.addCleanup(tls.close)
        self.assertFalse(typing.cast(Any, tls).do_handshake_on_connect)


class ResolverTests:
    """Tests every resolver implementation must pass."""

    # Provided by AsyncTestCase in the concrete classes.
    assertIn: Any
    assertEqual: Any
    assertRaises: Any
    addCleanup: Any

    def create_resolver(self) -> Any:
        raise NotImplementedError()

    def resolver(self) -> Resolver:
        resolver: Resolver = self.create_resolver()
        self.addCleanup(resolver.close)
        return resolver

    @gen_test
    async def test_localhost(self) -> None:
        addresses = await self.resolver().resolve("localhost", 80)
        self.assertIn((socket.AF_INET, ("127.0.0.1", 80)), addresses)

    @gen_test
    async def test_family_restriction(self) -> None:
        addresses = await self.resolver().resolve("localhost", 80, socket.AF_INET)
        self.assertEqual({family for family, _ in addresses}, {socket.AF_INET})

    @gen_test
    async def test_ipv4_literal(self) -> None:
        addresses = await self.resolver().resolve("127.0.0.1", 8888)
        self.assertEqual(addresses, [(socket.AF_INET, ("127.0.0.1", 8888))])

    @gen_test
    async def test_ipv6_literal(self) -> None:
        addresses = await self.resolver().resolve("::1", 443, socket.AF_INET6)
        [(family, address)] = addresses
        self.assertEqual(family, socket.AF_INET6)
        self.assertEqual(address[:2], ("::1", 443))

    @gen_test
    async def test_failure_names_the_host(self) -> None:
        with self.assertRaises(IOError) as cm:
            await self.resolver().resolve(INVALID_HOST, 80)
        self.assertIn(INVALID_HOST, str(cm.exception))


class DefaultLoopResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return DefaultLoopResolver()


class DefaultExecutorResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return DefaultExecutorResolver()

    @gen_test
    async def test_failure_keeps_gaierror_code(self) -> None:
        with self.assertRaises(socket.gaierror) as cm:
            await self.resolver().resolve(INVALID_HOST, 80)
        self.assertIsInstance(cm.exception.errno, int)


class BlockingResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return BlockingResolver()


class ThreadedResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return ThreadedResolver()

    def test_instances_share_one_pool(self) -> None:
        first, second = ThreadedResolver(), ThreadedResolver(num_threads=2)
        self.assertIs(first.executor, second.executor)
        first.close()
        # Closing an instance must not shut the shared pool down.
        second.executor.submit(int).result()
        second.close()


class ExecutorResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return ExecutorResolver(executor=concurrent.futures.ThreadPoolExecutor(1))

    def test_close_shuts_owned_executor_down(self) -> None:
        executor = concurrent.futures.ThreadPoolExecutor(1)
        ExecutorResolver(executor=executor).close()
        with self.assertRaises(RuntimeError):
            executor.submit(int)

    def test_close_leaves_borrowed_executor(self) -> None:
        executor = concurrent.futures.ThreadPoolExecutor(1)
        self.addCleanup(executor.shutdown)
        ExecutorResolver(executor=executor, close_executor=False).close()
        self.assertEqual(executor.submit(int).result(), 0)


class RecordingResolver(Resolver):
    """Answers every lookup with a fixed address and remembers the request."""

    def initialize(self) -> None:
        self.requests: list[tuple[str, int, int]] = []
        self.closed = False

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        self.requests.append((host, port, family))
        return [(socket.AF_INET, ("127.0.0.1", port))]

    def close(self) -> None:
        self.closed = True


class OverrideResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        mapping = {"example.invalid": "localhost"}
        return OverrideResolver(resolver=DefaultLoopResolver(), mapping=mapping)

    @gen_test
    async def test_mapped_host(self) -> None:
        addresses = await self.resolver().resolve("example.invalid", 80)
        self.assertIn((socket.AF_INET, ("127.0.0.1", 80)), addresses)

    @gen_test
    async def test_most_specific_mapping_wins(self) -> None:
        inner = RecordingResolver()
        resolver = OverrideResolver(
            inner,
            {
                "db.internal": "127.0.0.1",
                ("db.internal", 443): ("localhost", 1443),
                ("db.internal", 443, socket.AF_INET6): ("::1", 6443),
            },
        )
        await resolver.resolve("db.internal", 80)
        await resolver.resolve("db.internal", 443)
        await resolver.resolve("db.internal", 443, socket.AF_INET6)
        await resolver.resolve("db.internal", 443, socket.AF_INET)
        await resolver.resolve("example.com", 80)
        self.assertEqual(
            inner.requests,
            [
                ("127.0.0.1", 80, socket.AF_UNSPEC),
                ("localhost", 1443, socket.AF_UNSPEC),
                ("::1", 6443, socket.AF_INET6),
                ("localhost", 1443, socket.AF_INET),
                ("example.com", 80, socket.AF_UNSPEC),
            ],
        )

    def test_close_closes_wrapped_resolver(self) -> None:
        inner = RecordingResolver()
        OverrideResolver(inner, {}).close()
        self.assertTrue(inner.closed)


class ResolverConfigurationTest(unittest.TestCase):
    def setUp(self) -> None:
        saved = Resolver._save_configuration()
        self.addCleanup(Resolver._restore_configuration, saved)

    def test_default_is_loop_resolver(self) -> None:
        Resolver.configure(None)
        self.assertIsInstance(Resolver(), DefaultLoopResolver)

    def test_configure_by_name_with_arguments(self) -> None:
        Resolver.configure("tornado.netutil.ThreadedResolver", num_threads=3)
        resolver = Resolver()
        self.assertIsInstance(resolver, ThreadedResolver)
        resolver.close()

    def test_base_resolve_is_abstract(self) -> None:
        class Incomplete(Resolver):
            pass

        with self.assertRaises(NotImplementedError):
            Incomplete().resolve("localhost", 80)


if __name__ == "__main__":
    unittest.main()
