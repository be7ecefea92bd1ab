from __future__ import annotations

import socket
import struct
import unittest
from typing import Any

from tornado.ioloop import IOLoop
from tornado.test.netutil_test import ResolverTests
from tornado.testing import AsyncTestCase, gen_test

try:
    import pycares
except ImportError:
    pycares = None  # type: ignore[assignment]

if pycares is not None:
    from tornado.platform.caresresolver import CaresResolver

skip_without_pycares = unittest.skipIf(pycares is None, "pycares is not installed")

QTYPE_A = 1
# Header flags of an answer: response, recursion desired and available.
ANSWER_FLAGS = 0x8180
RCODE_NXDOMAIN = 3


class FakeDNSServer:
    """A UDP name server on loopback, served by the test's IOLoop.

    It answers A queries for ``known_name`` with ``address``, any other name
    with NXDOMAIN, and (with ``silent``) nothing at all.
    """

    def __init__(self, known_name: str, address: str, silent: bool = False) -> None:
        self.known_name = known_name.encode("ascii")
        self.address = socket.inet_aton(address)
        self.silent = silent
        self.queries = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.io_loop = IOLoop.current()
        self.io_loop.add_handler(self.sock, self.on_readable, IOLoop.READ)

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    def close(self) -> None:
        self.io_loop.remove_handler(self.sock)
        self.sock.close()

    def on_readable(self, fd: Any, events: int) -> None:
        query, client = self.sock.recvfrom(512)
        self.queries += 1
        if not self.silent:
            self.sock.sendto(self.answer(query), client)

    def answer(self, query: bytes) -> bytes:
        query_id, _, question_count = struct.unpack("!HHH", query[:6])
        name, question_end = self.parse_question(query)
        qtype = struct.unpack("!H", query[question_end - 4 : question_end - 2])[0]
        question = query[12:question_end]
        if name != self.known_name:
            header = struct.pack(
                "!HHHHHH", query_id, ANSWER_FLAGS | RCODE_NXDOMAIN, 1, 0, 0, 0
            )
            return header + question
        answers = []
        if qtype == QTYPE_A:
            # A pointer to the name in the question, type A, class IN,
            # a TTL of 60 seconds and the four address bytes.
            answers.append(
                struct.pack("!HHHIH", 0xC00C, QTYPE_A, 1, 60, 4) + self.address
            )
        header = struct.pack("!HHHHHH", query_id, ANSWER_FLAGS, 1, len(answers), 0, 0)
        return header + question + b"".join(answers)

    @staticmethod
    def parse_question(query: bytes) -> tuple[bytes, int]:
        """The queried name and the offset where the question ends."""
        labels = []
        offset = 12
        while query[offset]:
            length = query[offset]
            labels.append(query[offset + 1 : offset + 1 + length])
            offset += 1 + length
        # The terminating zero byte, then the type and class.
        return b".".join(labels), offset + 5


@skip_without_pycares
class CaresResolverTest(AsyncTestCase, ResolverTests):
    def create_resolver(self) -> Any:
        return CaresResolver()

    def resolver_with_fake_server(
        self, silent: bool = False, **channel_options: Any
    ) -> tuple[Any, FakeDNSServer]:
        """A CaresResolver whose only name server is a FakeDNSServer."""
        server = FakeDNSServer("service.example.test", "192.0.2.7", silent)
        self.addCleanup(server.close)
        resolver: Any = self.resolver()
        # pycares 4 takes no port in ``servers``; both versions take udp_port.
        resolver.channel = pycares.Channel(
            sock_state_cb=resolver._sock_state_cb,
            servers=["127.0.0.1"],
            udp_port=server.port,
            **channel_options,
        )
        return resolver, server

    def test_attributes(self) -> None:
        resolver: Any = self.resolver()
        self.assertIs(resolver.io_loop, self.io_loop)
        self.assertIsInstance(resolver.channel, pycares.Channel)
        self.assertEqual(resolver.fds, {})

    @gen_test
    async def test_dns_query_over_loopback(self) -> None:
        resolver, server = self.resolver_with_fake_server()
        addresses = await resolver.resolve("service.example.test", 443, socket.AF_INET)
        self.assertEqual(addresses, [(socket.AF_INET, ("192.0.2.7", 443))])
        self.assertGreaterEqual(server.queries, 1)

    @gen_test
    async def test_dns_name_error_names_the_host(self) -> None:
        resolver, _ = self.resolver_with_fake_server()
        with self.assertRaisesRegex(IOError, "missing.example.test"):
            await resolver.resolve("missing.example.test", 80, socket.AF_INET)

    @gen_test
    async def test_unanswered_query_times_out(self) -> None:
        # Only the resolver's timer can end this lookup: no socket becomes
        # readable.
        resolver, _ = self.resolver_with_fake_server(silent=True, timeout=0.05, tries=1)
        with self.assertRaisesRegex(IOError, "service.example.test"):
            await resolver.resolve("service.example.test", 80, socket.AF_INET)


if __name__ == "__main__":
    unittest.main()
